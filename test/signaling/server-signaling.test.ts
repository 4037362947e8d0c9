// Signaling on a real server over a raw WebSocket session: bad and out-of-order messages are refused with codes, counted, and every peer is closed again.
import { afterEach, describe, expect, it } from 'vitest';
import {
  encodeFrame,
  type Frame,
  FrameKind,
  type Message,
  MessageKind,
  WIRE_VERSION,
} from '../../src/codec/frames.js';
import { encodeSignal, parseSignal, type SignalMessage } from '../../src/signaling/index.js';
import { startEchoServer, type TestServer, until } from '../helpers/netloom.js';
import { type RawPeer, rawPeer } from '../helpers/raw-ws.js';
import { FakeRtc } from '../negotiation/fake-rtc.js';

const servers: TestServer[] = [];
const peers: RawPeer[] = [];

afterEach(async () => {
  for (const p of peers.splice(0)) p.ws.close();
  for (const s of servers.splice(0)) await s.close();
});

type Options = NonNullable<Parameters<typeof startEchoServer>[0]>;

async function server(rtc: FakeRtc, webrtc: Options['webrtc'] = {}): Promise<TestServer> {
  const s = await startEchoServer({ webrtc: { createPeer: rtc.serverPeer, ...webrtc } });
  servers.push(s);
  return s;
}

/** A hand-driven session: HELLO, then reliable SIGNAL frames; reads the server's signals. */
async function session(s: TestServer) {
  const ticket = await s.app.netloom.rooms.joinOrCreate('echo', {});
  const peer = await rawPeer(s.port);
  peers.push(peer);
  peer.send(
    encodeFrame({ kind: FrameKind.Hello, version: WIRE_VERSION, mode: 'new', handle: 1, seat: ticket.seat }),
  );
  await until(() => peer.frames.some((f) => f.kind === FrameKind.Welcome), 5_000, 'WELCOME');
  let seq = 0;
  const send = (message: Message) =>
    peer.send(encodeFrame({ kind: FrameKind.Reliable, seq: ++seq, message }));
  const signals = (): SignalMessage[] =>
    peer.frames
      .filter((f): f is Extract<Frame, { kind: typeof FrameKind.Reliable }> => f.kind === FrameKind.Reliable)
      .map((f) => f.message)
      .filter((m) => m.kind === MessageKind.Signal)
      .map((m) => parseSignal((m as { payload: string }).payload));
  return {
    peer,
    ticket,
    signal: (message: SignalMessage | string, to = '') =>
      send({
        kind: MessageKind.Signal,
        peer: to,
        payload: typeof message === 'string' ? message : encodeSignal(message),
      }),
    signals,
    /** Waits for the n-th close signal from the server and returns its code. */
    async closeCode(n = 1): Promise<string | undefined> {
      await until(() => signals().filter((m) => m.kind === 'close').length >= n, 5_000, `close signal ${n}`);
      const closes = signals().filter((m) => m.kind === 'close');
      return (closes[n - 1] as { code?: string }).code;
    },
  };
}

const candidate: SignalMessage = {
  kind: 'candidate',
  candidate: 'candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host',
  sdpMid: '0',
  sdpMLineIndex: 0,
};

describe('server signaling', () => {
  it('announces WebRTC in join tickets, and not when disabled (offers are then transport_unavailable)', async () => {
    const rtc = new FakeRtc();
    const on = await server(rtc, { iceServers: [{ urls: 'stun:stun.example.test:3478' }] });
    const ticket = await on.app.netloom.rooms.joinOrCreate('echo', {});
    expect(ticket.transports.webrtc).toEqual({ iceServers: [{ urls: 'stun:stun.example.test:3478' }] });
    expect(ticket.transports.websocket).toBe('/netloom/ws');

    const off = await server(rtc, { enabled: false });
    const s = await session(off);
    expect(s.ticket.transports.webrtc).toBeUndefined();
    s.signal({ kind: 'offer', sdp: 'fake-offer 1' });
    expect(await s.closeCode()).toBe('transport_unavailable');
    expect(off.app.netloom.metrics()['errors{transport_unavailable}']).toBe(1);
    expect(rtc.openServer).toBe(0);
  });

  it('refuses malformed, misaddressed and out-of-order signals with codes and keeps the session', async () => {
    const rtc = new FakeRtc();
    const s0 = await server(rtc, { maxSdpBytes: 200 });
    const s = await session(s0);
    s.signal('{"kind":"offer"');
    expect(await s.closeCode(1)).toBe('signal_invalid');
    s.signal(candidate); // before any offer
    expect(await s.closeCode(2)).toBe('signal_unexpected');
    s.signal({ kind: 'answer', sdp: 'v=0' }); // clients never answer the server
    expect(await s.closeCode(3)).toBe('signal_unexpected');
    s.signal({ kind: 'offer', sdp: 'x'.repeat(201) });
    expect(await s.closeCode(4)).toBe('sdp_too_large');
    s.signal({ kind: 'offer', sdp: 'fake-offer 1' }, 'another-client');
    expect(await s.closeCode(5)).toBe('signal_peer_unknown');
    const m = s0.app.netloom.metrics();
    expect(m['errors{signal_invalid}']).toBe(1);
    expect(m['errors{signal_unexpected}']).toBe(2);
    expect(m['errors{sdp_too_large}']).toBe(1);
    expect(m['errors{signal_peer_unknown}']).toBe(1);
    expect(rtc.openServer).toBe(0);
    expect(s.peer.ws.readyState).toBe(s.peer.ws.OPEN); // bad signaling does not end the session
    expect(s0.app.netloom.sessions.count()).toBe(1);
  });

  it('refuses a second offer while one is in progress and closes the peer; a restart allows a new one', async () => {
    const rtc = new FakeRtc();
    rtc.serverStalls = true;
    const s0 = await server(rtc);
    const s = await session(s0);
    s.signal({ kind: 'offer', sdp: 'fake-offer 1' });
    await until(() => s.signals().some((m) => m.kind === 'answer'));
    expect(rtc.openServer).toBe(1);
    expect(s0.app.netloom.metrics().webrtc_peers).toBe(1);
    s.signal({ kind: 'offer', sdp: 'fake-offer 2' });
    expect(await s.closeCode()).toBe('signal_unexpected');
    expect(rtc.openServer).toBe(0);
    s.signal({ kind: 'offer', sdp: 'fake-offer 3' }); // the refusal reset the state: a new offer is taken
    await until(() => s.signals().filter((m) => m.kind === 'answer').length === 2);
    s.signal({ kind: 'restart', reason: 'client wants a fresh start' });
    await until(() => rtc.openServer === 0, 5_000, 'peer closed by restart');
    s.signal({ kind: 'offer', sdp: 'fake-offer 4' });
    await until(() => s.signals().filter((m) => m.kind === 'answer').length === 3);
    s.peer.ws.close(); // the session drops: its negotiating peer is closed
    await until(() => rtc.openServer === 0, 5_000, 'peer closed with the session');
    expect(s0.app.netloom.metrics().webrtc_peers).toBe(0);
  });

  it('limits candidates per peer and offers per minute', async () => {
    const rtc = new FakeRtc();
    rtc.serverStalls = true;
    const s0 = await server(rtc, { maxCandidates: 2, offersPerMinute: 2 });
    const s = await session(s0);
    s.signal({ kind: 'offer', sdp: 'fake-offer 1' });
    s.signal(candidate);
    s.signal(candidate);
    s.signal(candidate);
    expect(await s.closeCode(1)).toBe('candidate_limit');
    await until(() => rtc.candidates.length === 2, 5_000, 'two candidates');
    expect(rtc.openServer).toBe(0);
    s.signal({ kind: 'offer', sdp: 'fake-offer 2' });
    s.signal({ kind: 'close' });
    s.signal({ kind: 'offer', sdp: 'fake-offer 3' });
    expect(await s.closeCode(2)).toBe('signal_rate_exceeded');
    expect(s0.app.netloom.metrics()['errors{candidate_limit}']).toBe(1);
    expect(s0.app.netloom.metrics()['errors{signal_rate_exceeded}']).toBe(1);
    await until(() => rtc.openServer === 0);
  });

  it('closes a peer whose link never opens, and one whose client opened it but never sent SWITCH', async () => {
    const rtc = new FakeRtc();
    rtc.serverStalls = true;
    const s0 = await server(rtc, { connectTimeoutMs: 100, switchTimeoutMs: 100 });
    const s = await session(s0);
    s.signal({ kind: 'offer', sdp: 'fake-offer 1' });
    expect(await s.closeCode(1)).toBe('upgrade_timeout');
    expect(rtc.openServer).toBe(0);
    rtc.serverStalls = false;
    s.signal({ kind: 'offer', sdp: 'fake-offer 2' });
    await until(() => s.signals().filter((m) => m.kind === 'answer').length === 2);
    expect(await s.closeCode(2)).toBe('upgrade_timeout'); // the link was open but no SWITCH came
    expect(rtc.openServer).toBe(0);
    expect(s0.app.netloom.metrics()['errors{upgrade_timeout}']).toBe(2);
    expect(s0.app.netloom.metrics().webrtc_peers).toBe(0);
  });

  it('answers SWITCH on the base link with SWITCH_ACK, and ends the session on one claiming frames never sent', async () => {
    const rtc = new FakeRtc();
    const s0 = await server(rtc);
    const s = await session(s0);
    s.peer.send(encodeFrame({ kind: FrameKind.Switch, lastReceived: 0 }));
    await until(() => s.peer.frames.some((f) => f.kind === FrameKind.SwitchAck));
    s.peer.send(encodeFrame({ kind: FrameKind.Switch, lastReceived: 10_000 }));
    expect((await s.peer.closed).closeFrameCode).toBe('sequence_invalid');
  });
});
