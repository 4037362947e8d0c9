// The whole WebTransport stack over real UDP on loopback: QUIC endpoint + HTTP/3 + session Link ↔ NodeWebTransport + client Link.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectWebTransport } from '../../src/client/transports/webtransport.js';
import type { Link } from '../../src/link/link.js';
import { connectQuic } from '../../src/server/transports/webtransport/client.js';
import { QuicEndpoint } from '../../src/server/transports/webtransport/endpoint.js';
import { H3Connection } from '../../src/server/transports/webtransport/h3-connection.js';
import {
  acceptWebTransportLink,
  type WebTransportServerLink,
} from '../../src/server/transports/webtransport/link.js';
import {
  NodeWebTransport,
  nodeWebTransportClass,
} from '../../src/server/transports/webtransport/node-client.js';
import { describeLinkConformance, Probe } from '../link/conformance.js';

let endpoint: QuicEndpoint;
const serverLinks: Array<(link: WebTransportServerLink) => void> = [];
const h3s = new Set<H3Connection>();

beforeAll(async () => {
  endpoint = await QuicEndpoint.listen({ host: '127.0.0.1' });
  endpoint.onconnection = (conn) => {
    const h3 = new H3Connection(conn, { path: '/wt', allowedOrigins: ['https://game.example'] });
    h3s.add(h3);
    h3.onclose = () => h3s.delete(h3);
    h3.onsession = (session) => {
      acceptWebTransportLink(session).then(
        (link) => serverLinks.shift()?.(link),
        () => {},
      );
    };
  };
});

afterAll(async () => {
  await endpoint.close();
});

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

const WebTransport = nodeWebTransportClass({
  origin: 'https://game.example',
  connect: (host, port, { serverCertificateHashes }) =>
    connectQuic({
      host,
      port,
      serverCertificateHashes: serverCertificateHashes?.map((h) => h.value),
    }),
});

async function pair(): Promise<{ client: Link; server: WebTransportServerLink }> {
  const server = new Promise<WebTransportServerLink>((resolve) => serverLinks.push(resolve));
  const client = await connectWebTransport(`https://127.0.0.1:${endpoint.address.port}/wt`, {
    WebTransport,
    certificateHashes: [hex(endpoint.certificates.current.sha256)],
  });
  return { client, server: await server };
}

describeLinkConformance(
  'webtransport over UDP (quiche)',
  async () => {
    const { client, server } = await pair();
    return {
      client,
      server,
      async cleanup() {
        client.close();
        server.close();
      },
    };
  },
  { reliableCount: 3_000 },
);

describe('WebTransport over UDP', () => {
  it('refuses a wrong path and a wrong certificate hash, and the connection count returns to zero', async () => {
    const port = endpoint.address.port;
    const wrongPath = new NodeWebTransport(`https://127.0.0.1:${port}/nope`, {
      origin: 'https://game.example',
      connect: (host, p) => connectQuic({ host, port: p }),
    });
    await expect(wrongPath.ready).rejects.toMatchObject({
      code: 'wt_session_refused',
      message: 'server answered 404',
    });
    const wrongHash = new NodeWebTransport(`https://127.0.0.1:${port}/wt`, {
      connect: (host, p) => connectQuic({ host, port: p, serverCertificateHashes: [new Uint8Array(32)] }),
    });
    await expect(wrongHash.ready).rejects.toBeTruthy();
    await endpoint.whenEmpty();
    expect(endpoint.stats().connections).toBe(0);
  });

  it('measures datagram RTT through both links (reported, not asserted)', async () => {
    const { client, server } = await pair();
    const atClient = new Probe(client, false);
    const atServer = new Probe(server, false, (frame) => server.send('unreliable', frame));
    const rtts: number[] = [];
    let sent = 0;
    for (let i = 0; i < 300; i++) {
      const frame = new Uint8Array(64);
      new DataView(frame.buffer).setUint32(0, i);
      const start = performance.now();
      client.send('unreliable', frame);
      sent++;
      const before = rtts.length;
      const waiter = new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 100);
        client.onframe = () => {
          rtts.push(performance.now() - start);
          clearTimeout(timer);
          resolve();
        };
      });
      await waiter;
      if (rtts.length === before) continue;
    }
    void atClient;
    void atServer;
    rtts.sort((a, b) => a - b);
    const p50 = rtts[Math.floor(rtts.length / 2)];
    const p99 = rtts[Math.floor(rtts.length * 0.99)];
    console.log(JSON.stringify({ datagramRttMs: { p50, p99, received: rtts.length, sent } }));
    expect(rtts.length).toBeGreaterThan(sent * 0.9);
    client.close();
    server.close();
    await endpoint.whenEmpty();
    expect(endpoint.stats().connections).toBe(0);
  });
});
