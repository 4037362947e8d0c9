// Hostile input: bad seat tokens, frames before the handshake, malformed frames and payloads are refused
// with stable codes, counted in metrics, and never disturb other sessions or rooms.
import { afterEach, describe, expect, it } from 'vitest';
import type { Client } from '../../src/client/index.js';
import { encodeFrame, FrameKind, MessageKind, WIRE_VERSION } from '../../src/codec/frames.js';
import { echoProtocol } from '../helpers/echo-room.js';
import { nodeClient, startEchoServer, type TestServer, until } from '../helpers/netloom.js';
import { rawPeer } from '../helpers/raw-ws.js';

const servers: TestServer[] = [];
const clients: Client[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  for (const s of servers.splice(0)) await s.close();
});

async function server(options: Parameters<typeof startEchoServer>[0] = {}): Promise<TestServer> {
  const s = await startEchoServer(options);
  servers.push(s);
  return s;
}

async function seat(s: TestServer): Promise<string> {
  const ticket = await s.app.netloom.rooms.joinOrCreate('echo', {});
  return ticket.seat;
}

function hello(seatToken: string, version = WIRE_VERSION): Uint8Array {
  return encodeFrame({ kind: FrameKind.Hello, version, mode: 'new', handle: 1, seat: seatToken });
}

async function refusedWith(s: TestServer, bytes: Uint8Array | Uint8Array[]): Promise<string> {
  const peer = await rawPeer(s.port);
  for (const b of Array.isArray(bytes) ? bytes : [bytes]) peer.send(b);
  return (await peer.closed).closeFrameCode;
}

describe('seat tokens', () => {
  it('admits a valid token once and refuses its reuse with seat_used', async () => {
    const s = await server();
    const token = await seat(s);
    const first = await rawPeer(s.port);
    first.send(hello(token));
    await until(() => first.frames.some((f) => f.kind === FrameKind.Welcome));
    expect(await refusedWith(s, hello(token))).toBe('seat_used');
    expect(s.app.netloom.metrics()['errors{seat_used}']).toBe(1);
    first.ws.close();
  });

  it('refuses a forged signature with seat_forged and garbage with seat_invalid', async () => {
    const s = await server();
    const token = await seat(s);
    const forged = `${token.slice(0, token.indexOf('.'))}.${Buffer.alloc(32, 7).toString('base64url')}`;
    expect(await refusedWith(s, hello(forged))).toBe('seat_forged');
    expect(await refusedWith(s, hello('not-a-token'))).toBe('seat_invalid');
    // a token signed by another server (another secret) is a forgery here
    const other = await server();
    expect(await refusedWith(s, hello(await seat(other)))).toBe('seat_forged');
  });

  it('refuses an expired token with seat_expired and frees the seat', async () => {
    let now = Date.now();
    const s = await server({ now: () => now, maxClients: 1 });
    const token = await seat(s);
    now += 31_000;
    expect(await refusedWith(s, hello(token))).toBe('seat_expired');
    const rooms = await s.app.netloom.rooms.list({ type: 'echo' });
    expect(rooms.map((r) => r.reserved + r.clients)).toEqual([0]);
  });

  it('refuses a token for another node with seat_wrong_node', async () => {
    const a = await server({ seatSecret: 'shared-secret-of-the-cluster', nodeId: 'a' });
    const b = await server({ seatSecret: 'shared-secret-of-the-cluster', nodeId: 'b' });
    expect(await refusedWith(b, hello(await seat(a)))).toBe('seat_wrong_node');
  });

  it('answers HTTP joins with stable codes for bad requests', async () => {
    const s = await server();
    const bad = await fetch(`${s.url}/netloom/rooms/echo/join-or-create`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify([1, 2]),
    });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ code: 'request_invalid' });
    const huge = await fetch(`${s.url}/netloom/rooms/echo/join-or-create`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ joinData: 'z'.repeat(100_000) }),
    });
    expect(huge.status).toBe(413);
    expect(await huge.json()).toMatchObject({ code: 'request_invalid' });
    const missing = await fetch(`${s.url}/netloom/rooms/nope/join`, {
      method: 'POST',
      body: '{}',
      headers: { 'content-type': 'application/json' },
    });
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ code: 'room_not_found' });
  });
});

describe('handshake', () => {
  it('refuses a first frame that is not HELLO with handshake_required', async () => {
    const s = await server();
    expect(await refusedWith(s, encodeFrame({ kind: FrameKind.Ping, id: 1 }))).toBe('handshake_required');
  });

  it('refuses an unknown wire version, garbage, and truncated frames with their codes', async () => {
    const s = await server();
    expect(await refusedWith(s, hello(await seat(s), 99))).toBe('version_unsupported');
    expect(await refusedWith(s, new Uint8Array([0xee, 1, 2]))).toBe('unknown_frame_kind');
    expect(await refusedWith(s, hello('x').subarray(0, 4))).toBe('frame_truncated');
    expect(await refusedWith(s, new Uint8Array([...hello('x'), 0]))).toBe('frame_trailing_bytes');
  });

  it('closes a link that never says HELLO with handshake_timeout', async () => {
    const s = await server({ session: { handshakeTimeoutMs: 100 } });
    const peer = await rawPeer(s.port);
    expect((await peer.closed).closeFrameCode).toBe('handshake_timeout');
  });

  it('refuses a resume of an unknown session with session_unknown', async () => {
    const s = await server();
    const resume = encodeFrame({
      kind: FrameKind.Hello,
      version: WIRE_VERSION,
      mode: 'resume',
      sessionToken: 'nope',
      lastReceived: 0,
    });
    expect(await refusedWith(s, resume)).toBe('session_unknown');
  });

  it('closes the socket on a message over the size limit and on an unknown channel tag', async () => {
    const s = await server();
    const big = await rawPeer(s.port);
    big.send(new Uint8Array(70_000));
    expect((await big.closed).wsCode).toBe(1009);
    const tagged = await rawPeer(s.port);
    tagged.send(hello(await seat(s)), 7);
    expect((await tagged.closed).wsCode).toBe(4000);
  });
});

describe('established sessions', () => {
  it('closes only the offending session on a malformed room payload; the room and others go on', async () => {
    const s = await server();
    const good = nodeClient(s.url);
    clients.push(good);
    const room = await good.joinOrCreate('echo', {}, { protocol: echoProtocol });
    const peer = await rawPeer(s.port);
    peer.send(hello((await s.app.netloom.seats.reserve(room.id)).seat));
    await until(() => peer.frames.some((f) => f.kind === FrameKind.Welcome));
    const sayOp = echoProtocol.client.opOf('say');
    // a `say` whose string claims 200 bytes but carries 2
    const body = new Uint8Array([MessageKind.Room, 1, sayOp, 1, 200, 1, 65, 66]);
    peer.send(new Uint8Array([FrameKind.Reliable, 1, ...body]));
    expect((await peer.closed).closeFrameCode).toMatch(/^(frame_truncated|string_too_long)$/);
    await until(() => s.log.leaves.length === 1);
    expect(s.log.leaves[0].reason).toBe('session_ended');
    const said: number[] = [];
    room.on('said', (m) => said.push(m.n));
    room.send('say', { n: 42, text: 'still here' });
    await until(() => said.length === 1);
    expect(said).toEqual([42]);
  });

  it('closes a session that sends an unknown op with unknown_op, and one that skips a sequence number', async () => {
    const s = await server();
    for (const [frame, code] of [
      [new Uint8Array([FrameKind.Reliable, 1, MessageKind.Room, 1, 99]), 'unknown_op'],
      [new Uint8Array([FrameKind.Reliable, 5, MessageKind.Leave, 1]), 'sequence_invalid'],
      [new Uint8Array([FrameKind.Reliable, 1, MessageKind.Joined, 1, 0, 0, 0, 0]), 'frame_malformed'],
    ] as const) {
      const peer = await rawPeer(s.port);
      peer.send(hello(await seat(s)));
      await until(() => peer.frames.some((f) => f.kind === FrameKind.Welcome));
      peer.send(frame);
      expect((await peer.closed).closeFrameCode).toBe(code);
    }
    expect(s.app.netloom.metrics()['errors{unknown_op}']).toBe(1);
  });

  it('ends a session whose client never acks once its resend buffer is full (buffer_overflow)', async () => {
    const s = await server({ session: { maxBufferBytes: 4_096 } });
    const peer = await rawPeer(s.port);
    peer.send(hello(await seat(s)));
    await until(() => peer.frames.some((f) => f.kind === FrameKind.Welcome));
    const room = (await s.app.netloom.rooms.list({ type: 'echo' }))[0];
    // Another member floods reliable broadcasts; the raw peer never acks them.
    const flooder = nodeClient(s.url);
    clients.push(flooder);
    const r = await flooder.join(await s.app.netloom.seats.reserve(room.id), { protocol: echoProtocol });
    for (let n = 0; n < 200; n++) r.send('say', { n, text: 'y'.repeat(40) });
    expect((await peer.closed).closeFrameCode).toBe('buffer_overflow');
  });
});
