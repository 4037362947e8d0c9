// The WebTransport Link (server session link ↔ client link over NodeWebTransport) on an in-memory QUIC pair: conformance and limits.
import { describe, expect, it } from 'vitest';
import { connectWebTransport } from '../../src/client/transports/webtransport.js';
import type { Link } from '../../src/link/link.js';
import { H3Connection } from '../../src/server/transports/webtransport/h3-connection.js';
import {
  acceptWebTransportLink,
  type WebTransportServerLink,
} from '../../src/server/transports/webtransport/link.js';
import { nodeWebTransportClass } from '../../src/server/transports/webtransport/node-client.js';
import type { WtSession } from '../../src/server/transports/webtransport/wt-session.js';
import { describeLinkConformance, Probe } from '../link/conformance.js';
import { type FakeQuicOptions, fakeQuicPair } from './fake-quic.js';

async function linkPair(options: FakeQuicOptions = {}) {
  const [clientQuic, serverQuic] = fakeQuicPair(options);
  const h3 = new H3Connection(serverQuic, { path: '/wt', allowedOrigins: ['https://game.example'] });
  const session = new Promise<WtSession>((resolve) => {
    h3.onsession = resolve;
  });
  const WebTransport = nodeWebTransportClass({
    connect: async () => clientQuic,
    origin: 'https://game.example',
  });
  const client = connectWebTransport('https://127.0.0.1:4433/wt', { WebTransport });
  const server = await acceptWebTransportLink(await session);
  return { client: await client, server, h3, clientQuic, serverQuic };
}

describeLinkConformance('webtransport (fake QUIC)', async () => {
  const { client, server, h3 } = await linkPair();
  return {
    client,
    server,
    async cleanup() {
      client.close();
      server.close();
      h3.close();
    },
  };
});

describe('WebTransport link limits', () => {
  it('refuses an unreliable frame larger than a datagram with datagram_too_large, never truncating it', async () => {
    const { client, server, h3 } = await linkPair({ maxDatagramSize: 1_200 });
    const atClient = new Probe(client);
    const limit = (server as WebTransportServerLink).maxUnreliableBytes;
    expect(limit).toBe(1_199);
    expect(server.send('unreliable', new Uint8Array(limit + 1).fill(7))).toBe(false);
    const stats = (server as WebTransportServerLink).stats();
    expect(stats.datagramsTooLarge).toBe(1);
    expect(stats.droppedOut).toBe(1);
    expect(stats.framesOut.unreliable).toBe(0);
    expect((server as WebTransportServerLink).lastSendError?.code).toBe('datagram_too_large');
    expect(server.send('unreliable', new Uint8Array(limit).fill(9))).toBe(true);
    await atClient.wait(() => atClient.frames.unreliable.length === 1, 'the datagram that fits');
    expect(atClient.frames.unreliable[0].length).toBe(limit);
    expect(server.isOpen).toBe(true);
    client.close();
    h3.close();
  });

  it('carries the reliable channel through a small flow-control window (partial writes, writable events)', async () => {
    const { client, server, h3 } = await linkPair({ streamWindow: 1_000 });
    const atClient = new Probe(client);
    const atServer = new Probe(server);
    const frames = Array.from({ length: 50 }, (_, i) => new Uint8Array(3_000 + i).fill(i));
    for (const frame of frames) expect(server.send('reliable', frame)).toBe(true);
    for (const frame of frames) expect(client.send('reliable', frame)).toBe(true);
    expect(server.bufferedBytes).toBeGreaterThan(100_000);
    await atClient.wait(() => atClient.frames.reliable.length === 50, 'frames at client');
    await atServer.wait(() => atServer.frames.reliable.length === 50, 'frames at server');
    expect(atClient.frames.reliable.map((f) => f.length)).toEqual(frames.map((f) => f.length));
    expect(
      atServer.frames.reliable.every((f, i) => f.length === 3_000 + i && f[0] === i && f[f.length - 1] === i),
    ).toBe(true);
    expect(server.bufferedBytes).toBe(0);
    client.close();
    h3.close();
  });

  it('closes with slow_consumer when the reliable queue would pass its limit', async () => {
    const [clientQuic, serverQuic] = fakeQuicPair({ streamWindow: 100 });
    const h3 = new H3Connection(serverQuic);
    const sessionP = new Promise<WtSession>((resolve) => {
      h3.onsession = resolve;
    });
    const WebTransport = nodeWebTransportClass({ connect: async () => clientQuic });
    const clientP = connectWebTransport('https://127.0.0.1:4433/', { WebTransport });
    const server = await acceptWebTransportLink(await sessionP, { maxBufferedBytes: 10_000 });
    const client: Link = await clientP;
    const atServer = new Probe(server);
    expect(server.send('reliable', new Uint8Array(6_000))).toBe(true);
    expect(server.send('reliable', new Uint8Array(6_000))).toBe(false);
    await atServer.wait(() => atServer.closes.length === 1, 'server close');
    expect(atServer.closes[0]).toMatchObject({ code: 'slow_consumer' });
    const atClient = new Probe(client);
    await atClient.wait(() => atClient.closes.length === 1, 'client close');
    expect(atClient.closes[0].code).toBe('link_closed');
    expect(atClient.closes[0].reason).toContain('slow_consumer');
    h3.close();
  });
});
