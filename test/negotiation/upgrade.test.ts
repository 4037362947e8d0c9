// Client negotiation end to end on a real server (WebSocket + in-memory "WebRTC" peers): upgrade, transport events, fallback mid-stream with nothing lost, retry.
import { afterEach, describe, expect, it } from 'vitest';
import type { TransportChange } from '../../src/client/connection.js';
import type { Client } from '../../src/client/index.js';
import type { UpgradeEvent } from '../../src/client/upgrade.js';
import { echoProtocol } from '../helpers/echo-room.js';
import { nodeClient, startEchoServer, type TestServer, until } from '../helpers/netloom.js';
import { FakeRtc } from './fake-rtc.js';

let server: TestServer | null = null;
const clients: Client[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await server?.close();
  server = null;
});

function client(rtc: FakeRtc, options: Parameters<typeof nodeClient>[1] = {}): Client {
  if (!server) throw new Error('no server');
  const c = nodeClient(server.url, {
    webrtc: { createPeer: rtc.clientPeer },
    upgrade: { retryBaseMs: 20, retryMaxMs: 200 },
    ...options,
  });
  clients.push(c);
  return c;
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i + 1);

describe('transport negotiation', () => {
  it('upgrades to webrtc after joining over websocket and reports it on room and client', async () => {
    const rtc = new FakeRtc();
    server = await startEchoServer({ webrtc: { createPeer: rtc.serverPeer } });
    const c = client(rtc);
    const clientEvents: TransportChange[] = [];
    const upgrades: UpgradeEvent[] = [];
    c.on('transport', (e) => clientEvents.push(e));
    c.on('upgrade', (e) => upgrades.push(e));
    const room = await c.joinOrCreate('echo', {}, { protocol: echoProtocol });
    const roomEvents: TransportChange[] = [];
    room.on('transport', (e) => roomEvents.push(e));
    await until(() => room.transport === 'webrtc', 5_000, 'upgrade');
    expect(clientEvents).toEqual([
      { transport: 'websocket', previous: null },
      { transport: 'webrtc', previous: 'websocket' },
    ]);
    expect(roomEvents.at(-1)).toEqual({ transport: 'webrtc', previous: 'websocket' });
    expect(upgrades).toEqual([{ type: 'upgraded', transport: 'webrtc' }]);
    expect(room.stats().transport).toBe('webrtc');
    expect(rtc.candidates.length).toBe(1); // the trickled candidate reached the server peer
    // Both channels travel on the upgraded link now.
    const said: number[] = [];
    const blips: number[] = [];
    room.on('said', (m) => said.push(m.n));
    room.on('blipped', (m) => blips.push(m.n));
    const before = rtc.clientLinks[0].stats();
    for (let n = 1; n <= 50; n++) {
      room.send('say', { n, text: 'hi' });
      room.send('blip', { n }, { reliable: false });
    }
    await until(() => said.length === 50 && blips.length > 0, 5_000, 'echoes');
    const after = rtc.clientLinks[0].stats();
    expect(after.framesOut.reliable - before.framesOut.reliable).toBeGreaterThanOrEqual(50);
    expect(after.framesOut.unreliable - before.framesOut.unreliable).toBe(50);
    expect(after.framesIn.unreliable).toBeGreaterThan(0);
    expect(server.app.netloom.metrics()['upgrades{webrtc}']).toBe(1);
    c.close();
    await until(() => rtc.openServer === 0 && rtc.openClient === 0, 5_000, 'peers closed');
    expect(server.app.netloom.metrics().webrtc_peers).toBe(0);
  });

  it('stays on websocket when websocket is preferred, when the runtime lacks WebRTC, or when the server does not offer it', async () => {
    const rtc = new FakeRtc();
    server = await startEchoServer({ webrtc: { createPeer: rtc.serverPeer } });
    const preferWs = client(rtc, { transports: ['websocket', 'webrtc'] });
    const r1 = await preferWs.joinOrCreate('echo', {}, { protocol: echoProtocol });
    const noRtc = nodeClient(server.url); // Node has no RTCPeerConnection and none was given
    clients.push(noRtc);
    const r2 = await noRtc.joinOrCreate('echo', {}, { protocol: echoProtocol });
    await server.close();
    const off = new FakeRtc();
    server = await startEchoServer({ webrtc: { enabled: false } });
    const r3 = await client(off).joinOrCreate('echo', {}, { protocol: echoProtocol });
    const said: number[] = [];
    r3.on('said', (m) => said.push(m.n));
    r3.send('say', { n: 1, text: 'x' });
    await until(() => said.length === 1);
    expect(r3.transport).toBe('websocket');
    expect(r1.transport === null || r1.transport === 'websocket').toBe(true);
    expect(r2.transport === null || r2.transport === 'websocket').toBe(true);
    expect(rtc.openClient + off.openClient).toBe(0);
    expect(rtc.clientLinks.length + off.clientLinks.length).toBe(0);
  });

  it('carries 10,000 reliable messages each way while the datachannel dies mid-stream three times, falling back and upgrading again', async () => {
    const rtc = new FakeRtc();
    server = await startEchoServer({ webrtc: { createPeer: rtc.serverPeer } });
    const c = client(rtc);
    const upgrades: UpgradeEvent[] = [];
    c.on('upgrade', (e) => upgrades.push(e));
    const room = await c.joinOrCreate('echo', {}, { protocol: echoProtocol });
    const transports: string[] = [];
    room.on('transport', (e) => transports.push(e.transport));
    await until(() => room.transport === 'webrtc', 5_000, 'first upgrade');
    const echoed: number[] = [];
    room.on('said', (m) => echoed.push(m.n));
    const total = 10_000;
    for (let n = 1; n <= total; n++) {
      room.send('say', { n, text: 'x'.repeat(n % 40) });
      if (n % 2_500 === 0 && n < total) {
        const kills = n / 2_500;
        await until(
          () => room.transport === 'webrtc' && rtc.clientLinks.length === kills,
          5_000,
          `upgrade ${kills}`,
        );
        const link = rtc.clientLinks[kills - 1];
        // Odd kills: the client's end dies; even: the server's end (each side must notice and fall back).
        if (kills % 2 === 1) link.close('link_closed', 'test kills the datachannel (client side)');
        else link.inner.peer?.close('link_closed', 'test kills the datachannel (server side)');
      }
      if (n % 200 === 0) await new Promise((r) => setTimeout(r, 1));
    }
    await until(() => echoed.length >= total, 10_000, 'all echoes');
    await until(() => room.transport === 'webrtc' && rtc.clientLinks.length === 4, 5_000, 'fourth upgrade');
    expect(server.log.received.get(room.clientId)).toEqual(range(total)); // client -> server
    expect(echoed).toEqual(range(total)); // server -> client
    // The first event (websocket, when the session opened) was held for the room until it joined.
    expect(transports).toEqual(['websocket', ...Array(4).fill(['webrtc', 'websocket']).flat().slice(0, 7)]);
    expect(upgrades.filter((u) => u.type === 'lost').length).toBe(3);
    expect(server.log.drops).toEqual([]); // the session never dropped: no reconnection happened
    expect(server.app.netloom.metrics()['upgrades{webrtc}']).toBe(4);
    await until(() => rtc.openServer === 1 && rtc.openClient === 1, 5_000, 'only the live peers open');
  });

  it('when the standby websocket dies, drops the webrtc link too, resumes over websocket and upgrades again', async () => {
    const rtc = new FakeRtc();
    server = await startEchoServer({ webrtc: { createPeer: rtc.serverPeer } });
    const wsLinks: Array<{ close(code?: 'link_closed', reason?: string): void }> = [];
    const c = client(rtc, {
      reconnect: { baseDelayMs: 20, maxDelayMs: 100 },
      wrapLink: (link) => {
        wsLinks.push(link);
        return link;
      },
    });
    const room = await c.joinOrCreate('echo', {}, { protocol: echoProtocol });
    await until(() => room.transport === 'webrtc', 5_000, 'upgrade');
    const echoed: number[] = [];
    room.on('said', (m) => echoed.push(m.n));
    let reconnected = 0;
    room.on('reconnected', () => reconnected++);
    for (let n = 1; n <= 500; n++) room.send('say', { n, text: 'y' });
    wsLinks[0].close('link_closed', 'test kills the websocket');
    for (let n = 501; n <= 1_000; n++) room.send('say', { n, text: 'y' });
    await until(() => reconnected === 1, 5_000, 'resume');
    await until(() => echoed.length >= 1_000, 10_000, 'all echoes');
    expect(echoed).toEqual(range(1_000));
    expect(server.log.received.get(room.clientId)).toEqual(range(1_000));
    await until(
      () => room.transport === 'webrtc' && rtc.clientLinks.length === 2,
      5_000,
      'upgrade after resume',
    );
    await until(() => rtc.openServer === 1, 5_000, 'only the new server peer is open');
  });

  it('retries a failed upgrade with backoff and reports each failure', async () => {
    const rtc = new FakeRtc();
    rtc.serverStalls = true;
    server = await startEchoServer({ webrtc: { createPeer: rtc.serverPeer, connectTimeoutMs: 50 } });
    const c = client(rtc);
    const upgrades: UpgradeEvent[] = [];
    c.on('upgrade', (e) => upgrades.push(e));
    const room = await c.joinOrCreate('echo', {}, { protocol: echoProtocol });
    await until(() => upgrades.length >= 3, 5_000, 'three failures');
    const failures = upgrades.filter((u) => u.type === 'failed');
    expect(failures.length).toBeGreaterThanOrEqual(3);
    expect(failures.every((f) => f.type === 'failed' && f.code === 'upgrade_timeout')).toBe(true);
    const delays = failures.map((f) => (f.type === 'failed' ? f.retryInMs : 0));
    expect(delays[2]).toBeGreaterThan(delays[0]); // 20 → 40 → 80 ms, each with jitter in [0.5, 1]
    expect(room.transport).toBe('websocket');
    rtc.serverStalls = false;
    await until(() => room.transport === 'webrtc', 5_000, 'upgrade once the server peer works');
  });

  it('gives up for the session when the server answers transport_unavailable', async () => {
    const rtc = new FakeRtc();
    server = await startEchoServer({ webrtc: { enabled: false } });
    const c = client(rtc);
    const upgrades: UpgradeEvent[] = [];
    c.on('upgrade', (e) => upgrades.push(e));
    // A ticket that claims WebRTC (an older or misconfigured node): the offer is refused.
    const ticket = await server.app.netloom.rooms.joinOrCreate('echo', {});
    const room = await c.join(
      { ...ticket, transports: { ...ticket.transports, webrtc: { iceServers: [] } } },
      {
        protocol: echoProtocol,
      },
    );
    await until(() => upgrades.length === 1, 5_000, 'the refusal');
    expect(upgrades[0]).toEqual({ type: 'failed', code: 'transport_unavailable', retryInMs: -1 });
    const said: number[] = [];
    room.on('said', (m) => said.push(m.n));
    for (let n = 1; n <= 5; n++) {
      room.send('say', { n, text: 'still here' });
      await until(() => said.length === n);
      await new Promise((r) => setTimeout(r, 20)); // longer than the first retry delay would be
    }
    expect(rtc.clientMade).toBe(1);
    expect(rtc.openClient).toBe(0);
    expect(room.transport).toBe('websocket');
  });
});
