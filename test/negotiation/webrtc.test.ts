// Upgrade to real WebRTC (werift on both ends, loopback): echo on both channels, the datachannel killed mid-stream, fallback with nothing lost, upgrade again.
import { afterEach, describe, expect, it } from 'vitest';
import type { Client } from '../../src/client/index.js';
import { weriftPeerConnection } from '../../src/client/node-webrtc.js';
import type {
  RTCPeerConnectionConstructorLike,
  RTCPeerConnectionLike,
} from '../../src/client/transports/webrtc.js';
import type { UpgradeEvent } from '../../src/client/upgrade.js';
import { echoProtocol } from '../helpers/echo-room.js';
import { nodeClient, startEchoServer, type TestServer, until } from '../helpers/netloom.js';

let server: TestServer | null = null;
const clients: Client[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  if (server)
    await until(() => server?.app.netloom.metrics().webrtc_peers === 0, 5_000, 'server peers closed');
  await server?.close();
  server = null;
});

/** werift's RTCPeerConnection for Node, remembering every connection made (to kill one). */
function trackedPeerConnection(made: RTCPeerConnectionLike[]): RTCPeerConnectionConstructorLike {
  const Base = weriftPeerConnection();
  return function Tracked(configuration: { iceServers: [] }) {
    const pc = new Base(configuration);
    made.push(pc);
    return pc;
  } as unknown as RTCPeerConnectionConstructorLike;
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i + 1);

describe('upgrade to WebRTC (werift)', () => {
  it('upgrades, carries both channels, survives the datachannel dying mid-stream, and upgrades again', async () => {
    server = await startEchoServer();
    const made: RTCPeerConnectionLike[] = [];
    const c = nodeClient(server.url, {
      webrtc: { RTCPeerConnection: trackedPeerConnection(made) },
      upgrade: { retryBaseMs: 50, retryMaxMs: 400 },
    });
    clients.push(c);
    const upgrades: UpgradeEvent[] = [];
    c.on('upgrade', (e) => upgrades.push(e));
    const room = await c.joinOrCreate('echo', {}, { protocol: echoProtocol });
    expect(room.transport).toBe('websocket'); // play starts at once over WebSocket
    await until(() => room.transport === 'webrtc', 10_000, 'upgrade to webrtc');
    expect(server.app.netloom.metrics().webrtc_peers).toBe(1);

    const echoed: number[] = [];
    const blipped: number[] = [];
    room.on('said', (m) => echoed.push(m.n));
    room.on('blipped', (m) => blipped.push(m.n));
    // Unreliable frames may be dropped (the link drops them rather than queue a burst), so send them
    // paced, one per few milliseconds, until 20 echoes came back over the datachannel.
    for (let n = 1; blipped.length < 20 && n <= 2_000; n++) {
      room.send('blip', { n }, { reliable: false });
      await new Promise((r) => setTimeout(r, 3));
    }
    expect(blipped.length).toBeGreaterThanOrEqual(20);

    const total = 3_000;
    let killedAt = 0;
    for (let n = 1; n <= total; n++) {
      room.send('say', { n, text: 'z'.repeat(n % 30) });
      if (n === 1_000) {
        killedAt = echoed.length;
        made.at(-1)?.close(); // the client's peer connection dies abruptly: no close notice, channels gone
      }
      if (n % 100 === 0) await new Promise((r) => setTimeout(r, 1));
    }
    await until(() => echoed.length >= total, 15_000, 'all echoes');
    expect(killedAt).toBeLessThan(1_000); // the kill happened with reliable traffic still in flight
    expect(echoed).toEqual(range(total));
    expect(server.log.received.get(room.clientId)).toEqual(range(total));
    expect(upgrades.some((u) => u.type === 'lost')).toBe(true);
    expect(server.log.drops).toEqual([]); // it fell back to the WebSocket: no reconnection

    await until(() => room.transport === 'webrtc' && made.length >= 2, 15_000, 'upgrade again');
    echoed.length = 0;
    for (let n = 1; n <= 200; n++) room.send('say', { n, text: 'again' });
    await until(() => echoed.length >= 200, 5_000, 'echoes after the second upgrade');
    expect(echoed).toEqual(range(200));
    expect(server.app.netloom.metrics()['upgrades{webrtc}']).toBeGreaterThanOrEqual(2);
    c.close();
  }, 60_000);

  it('refuses a garbage offer with a code and leaks no peer', async () => {
    server = await startEchoServer();
    const ticket = await server.app.netloom.rooms.joinOrCreate('echo', {});
    expect(ticket.transports.webrtc).toEqual({ iceServers: [] });
    const { rawPeer } = await import('../helpers/raw-ws.js');
    const { encodeFrame, FrameKind, MessageKind, WIRE_VERSION } = await import('../../src/codec/frames.js');
    const peer = await rawPeer(server.port);
    peer.send(
      encodeFrame({
        kind: FrameKind.Hello,
        version: WIRE_VERSION,
        mode: 'new',
        handle: 1,
        seat: ticket.seat,
      }),
    );
    await until(() => peer.frames.some((f) => f.kind === FrameKind.Welcome));
    const payload = JSON.stringify({ kind: 'offer', sdp: 'v=0\r\nthis is not sdp\r\n' });
    peer.send(
      encodeFrame({
        kind: FrameKind.Reliable,
        seq: 1,
        message: { kind: MessageKind.Signal, peer: '', payload },
      }),
    );
    await until(
      () => (server?.app.netloom.metrics()['errors{sdp_invalid}'] ?? 0) > 0,
      5_000,
      'the offer refused',
    );
    const signals = () =>
      peer.frames.flatMap((f) =>
        f.kind === FrameKind.Reliable && f.message.kind === MessageKind.Signal
          ? [JSON.parse(f.message.payload)]
          : [],
      );
    await until(() => signals().length > 0, 5_000, 'the close signal');
    expect(signals()[0]).toMatchObject({ kind: 'close', code: 'sdp_invalid' });
    expect(server.app.netloom.metrics()['errors{sdp_invalid}']).toBe(1);
    await until(() => server?.app.netloom.metrics().webrtc_peers === 0, 5_000, 'no peer left');
    peer.ws.close();
  });
});
