// Upgrade to WebTransport over real UDP on loopback (Node client on the quiche binding): both channels, a killed QUIC connection mid-stream, fallback with nothing lost, upgrade again; bad tokens refused.
import { afterEach, describe, expect, it } from 'vitest';
import type { Client } from '../../src/client/index.js';
import type { UpgradeEvent } from '../../src/client/upgrade.js';
import { connectQuic } from '../../src/server/transports/webtransport/client.js';
import { nodeWebTransportClass } from '../../src/server/transports/webtransport/node-client.js';
import type { QuicConnection } from '../../src/server/transports/webtransport/quic.js';
import { echoProtocol } from '../helpers/echo-room.js';
import { nodeClient, startEchoServer, type TestServer, until } from '../helpers/netloom.js';

let server: TestServer | null = null;
const clients: Client[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await server?.close();
  server = null;
});

const range = (n: number) => Array.from({ length: n }, (_, i) => i + 1);

/** A WebTransport class for Node over the quiche client, remembering each QUIC connection (to kill one). */
function trackedWebTransport(made: QuicConnection[]) {
  return nodeWebTransportClass({
    connect: async (host, port, { serverCertificateHashes }) => {
      const quic = await connectQuic({
        host,
        port,
        serverCertificateHashes: serverCertificateHashes?.map((h) => h.value),
      });
      made.push(quic);
      return quic;
    },
  });
}

describe('upgrade to WebTransport (quiche, loopback)', () => {
  it('upgrades, carries both channels, survives the QUIC connection dying mid-stream, and upgrades again', async () => {
    server = await startEchoServer({ webtransport: { enabled: true }, webrtc: { enabled: false } });
    const ticket = await server.app.netloom.rooms.joinOrCreate('echo', {});
    expect(ticket.transports.webtransport?.certificateHashes).toHaveLength(1);
    expect(ticket.transports.webtransport?.path).toBe('/netloom/wt');

    const made: QuicConnection[] = [];
    const c = nodeClient(server.url, {
      webtransport: { WebTransport: trackedWebTransport(made) },
      upgrade: { retryBaseMs: 50, retryMaxMs: 400 },
    });
    clients.push(c);
    const upgrades: UpgradeEvent[] = [];
    c.on('upgrade', (e) => upgrades.push(e));
    const room = await c.joinOrCreate('echo', {}, { protocol: echoProtocol });
    await until(() => room.transport === 'webtransport', 10_000, 'upgrade to webtransport');

    const echoed: number[] = [];
    const blipped: number[] = [];
    room.on('said', (m) => echoed.push(m.n));
    room.on('blipped', (m) => blipped.push(m.n));
    for (let n = 1; blipped.length < 20 && n <= 2_000; n++) {
      room.send('blip', { n }, { reliable: false });
      await new Promise((r) => setTimeout(r, 3));
    }
    expect(blipped.length).toBeGreaterThanOrEqual(20);

    const total = 3_000;
    for (let n = 1; n <= total; n++) {
      room.send('say', { n, text: 'z'.repeat(n % 30) });
      if (n === 1_000) made.at(-1)?.close(1, 'killed by the test'); // the QUIC connection dies mid-stream
      if (n % 100 === 0) await new Promise((r) => setTimeout(r, 1));
    }
    await until(() => echoed.length >= total, 15_000, 'all echoes');
    expect(echoed).toEqual(range(total));
    expect(server.log.received.get(room.clientId)).toEqual(range(total));
    expect(upgrades.some((u) => u.type === 'lost')).toBe(true);
    expect(server.log.drops).toEqual([]); // fell back to the WebSocket: no reconnection

    await until(() => room.transport === 'webtransport' && made.length >= 2, 15_000, 'upgrade again');
    echoed.length = 0;
    for (let n = 1; n <= 200; n++) room.send('say', { n, text: 'again' });
    await until(() => echoed.length >= 200, 5_000, 'echoes after the second upgrade');
    expect(echoed).toEqual(range(200));
    expect(server.app.netloom.metrics()['upgrades{webtransport}']).toBeGreaterThanOrEqual(2);
  }, 60_000);

  it('refuses a WebTransport link whose session token is unknown, and stays on WebSocket', async () => {
    server = await startEchoServer({ webtransport: { enabled: true }, webrtc: { enabled: false } });
    const ticket = await server.app.netloom.rooms.joinOrCreate('echo', {});
    const wt = ticket.transports.webtransport;
    if (!wt) throw new Error('no webtransport in the ticket');
    const { connectWebTransport } = await import('../../src/client/transports/webtransport.js');
    const made: QuicConnection[] = [];
    const link = await connectWebTransport(`https://127.0.0.1:${wt.port}${wt.path}?session=forged`, {
      WebTransport: trackedWebTransport(made),
      certificateHashes: wt.certificateHashes,
    });
    const closed = await new Promise<{ code: string }>((resolve) => {
      link.onclose = (info) => resolve(info);
      link.onframe = () => {};
    });
    expect(closed.code).not.toBe('normal');
    expect(server.app.netloom.metrics()['errors{session_unknown}']).toBe(1);
  }, 30_000);

  it('does not offer WebTransport unless enabled', async () => {
    server = await startEchoServer();
    const ticket = await server.app.netloom.rooms.joinOrCreate('echo', {});
    expect(ticket.transports.webtransport).toBeUndefined();
  });
});
