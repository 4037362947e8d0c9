// The session frame envelope: every frame and message kind round-trips; malformed bytes get the right code.

import { describe, expect, it } from 'vitest';
import { ByteWriter } from '../../src/codec/bytes.js';
import {
  decodeFrame,
  encodeDataFrame,
  encodeFrame,
  encodeMessage,
  encodeRoomFrame,
  type Frame,
  FrameKind,
  type Message,
  MessageKind,
  WIRE_VERSION,
} from '../../src/codec/index.js';
import { codeOf } from '../helpers/codes.js';

const MESSAGES: Message[] = [
  { kind: MessageKind.Join, handle: 3, seat: 'seat-token.abc' },
  {
    kind: MessageKind.Joined,
    handle: 3,
    roomId: 'r1',
    roomType: 'arena',
    clientId: 'c-9',
    protocolHash: 'bf7a4ee6',
  },
  { kind: MessageKind.JoinFailed, handle: 200, code: 'room_full', message: 'room is full' },
  { kind: MessageKind.Leave, handle: 0 },
  { kind: MessageKind.Left, handle: 1, code: 'kicked', reason: 'bye — 日本' },
  { kind: MessageKind.Room, handle: 1, op: 300, payload: Uint8Array.from([1, 2, 3, 0xff]) },
  { kind: MessageKind.Room, handle: 2, op: 1, payload: new Uint8Array(0) },
  { kind: MessageKind.RpcRequest, id: 7, name: 'profile.get', payload: Uint8Array.from([4, 5]) },
  { kind: MessageKind.RpcResponse, id: 7, ok: true, payload: Uint8Array.from([6]) },
  { kind: MessageKind.RpcResponse, id: 300, ok: false, code: 'endpoint_unknown', message: 'no such' },
  {
    kind: MessageKind.Presence,
    handle: 4,
    joins: [
      { clientId: 'c1', userId: 'u1' },
      { clientId: 'c2', userId: '' },
    ],
    leaves: ['c0'],
  },
  { kind: MessageKind.Presence, handle: 4, joins: [], leaves: [] },
  {
    kind: MessageKind.RoomState,
    handle: 5,
    reset: true,
    changes: [
      { key: 'score', value: '{"red":1}' },
      { key: 'gone', value: null },
    ],
  },
  { kind: MessageKind.Notice, code: 'message_rate_exceeded', message: 'slow down' },
  { kind: MessageKind.Push, op: 2, payload: Uint8Array.from([1]) },
  { kind: MessageKind.Signal, peer: '', payload: '{"type":"offer","sdp":"v=0"}' },
];

function hasList(frame: Frame): boolean {
  return (
    'message' in frame &&
    (frame.message.kind === MessageKind.Presence || frame.message.kind === MessageKind.RoomState)
  );
}

/** Messages whose last field is an opaque payload running to the end of the frame. */
function endsInPayload(frame: Frame): boolean {
  if (!('message' in frame)) return false;
  const m = frame.message;
  return (
    m.kind === MessageKind.Room ||
    m.kind === MessageKind.RpcRequest ||
    m.kind === MessageKind.Push ||
    (m.kind === MessageKind.RpcResponse && m.ok)
  );
}

const FRAMES: Frame[] = [
  { kind: FrameKind.Hello, version: 1, mode: 'new', handle: 1, seat: 'seat' },
  { kind: FrameKind.Hello, version: 1, mode: 'resume', sessionToken: 'tok', lastReceived: 1234567 },
  {
    kind: FrameKind.Welcome,
    sessionId: 's1',
    sessionToken: 'tok',
    lastReceived: 0,
    resumed: false,
    pingIntervalMs: 2000,
    idleTimeoutMs: 15000,
  },
  {
    kind: FrameKind.Welcome,
    sessionId: '',
    sessionToken: 't',
    lastReceived: 2 ** 40,
    resumed: true,
    pingIntervalMs: 0,
    idleTimeoutMs: 1,
  },
  { kind: FrameKind.Ack, lastReceived: 0 },
  { kind: FrameKind.Ack, lastReceived: Number.MAX_SAFE_INTEGER },
  { kind: FrameKind.Ping, id: 42 },
  { kind: FrameKind.Pong, id: 128 },
  { kind: FrameKind.Pong, id: 3, heldUs: 12_500 },
  { kind: FrameKind.Close, code: 'idle_timeout', reason: 'no traffic for 15 s' },
  { kind: FrameKind.Switch, lastReceived: 12345 },
  { kind: FrameKind.SwitchAck, lastReceived: 0 },
  ...MESSAGES.map((message, i): Frame => ({ kind: FrameKind.Reliable, seq: 1 + i * 1000, message })),
  ...MESSAGES.map((message, i): Frame => ({ kind: FrameKind.Unreliable, seq: 65535 - i, message })),
];

describe('frame envelope', () => {
  it('round-trips every frame kind and message kind', () => {
    for (const frame of FRAMES) expect(decodeFrame(encodeFrame(frame))).toEqual(frame);
  });

  it('encodes HELLO as WIRE.md §3.1 shows, with the current wire version', () => {
    const hex = (frame: Frame) => Buffer.from(encodeFrame(frame)).toString('hex');
    expect(WIRE_VERSION).toBe(2);
    expect(hex({ kind: FrameKind.Hello, version: WIRE_VERSION, mode: 'new', handle: 1, seat: 'abc' })).toBe(
      '0102000103616263',
    );
    expect(
      hex({
        kind: FrameKind.Hello,
        version: WIRE_VERSION,
        mode: 'resume',
        sessionToken: 'tok',
        lastReceived: 300,
      }),
    ).toBe('01020103746f6bac02');
  });

  it('encodes PING and PONG as WIRE.md §3.4 shows, the PONG hold only when there was one', () => {
    const hex = (frame: Frame) => Buffer.from(encodeFrame(frame)).toString('hex');
    expect(hex({ kind: FrameKind.Ping, id: 3 })).toBe('0603');
    expect(hex({ kind: FrameKind.Pong, id: 3 })).toBe('0703');
    expect(hex({ kind: FrameKind.Pong, id: 3, heldUs: 0 })).toBe('0703');
    expect(hex({ kind: FrameKind.Pong, id: 3, heldUs: 12_500 })).toBe('0703d461');
    expect(codeOf(() => decodeFrame(Uint8Array.from([0x07, 0x03, 0xd4, 0x61, 0x00])))).toBe(
      'frame_trailing_bytes',
    );
  });

  it('refuses every truncation with frame_truncated (or frame_empty at length 0)', () => {
    for (const frame of FRAMES) {
      const bytes = encodeFrame(frame);
      expect(codeOf(() => decodeFrame(bytes.subarray(0, 0)))).toBe('frame_empty');
      for (let cut = 1; cut < bytes.length; cut++) {
        const code = codeOf(() => decodeFrame(bytes.subarray(0, cut)));
        // A payload is opaque to the envelope: cutting inside it yields a shorter payload, checked later.
        if (endsInPayload(frame) && code === 'ok') continue;
        // A cut list is caught earlier, by its count no longer fitting the bytes left.
        if (hasList(frame) && code === 'list_too_long') continue;
        // A PONG's hold is optional: cut right after its id, it is a PONG sent at once.
        if (frame.kind === FrameKind.Pong && cut === encodeFrame({ ...frame, heldUs: 0 }).length) {
          expect(decodeFrame(bytes.subarray(0, cut))).toEqual({ kind: FrameKind.Pong, id: frame.id });
          continue;
        }
        expect(code, `${JSON.stringify(frame.kind)} cut at ${cut}`).toBe('frame_truncated');
      }
    }
  });

  it('refuses trailing bytes after every frame whose end is known', () => {
    for (const frame of FRAMES) {
      if (endsInPayload(frame)) continue;
      const bytes = encodeFrame(frame);
      const longer = new Uint8Array(bytes.length + 1);
      longer.set(bytes);
      // After a PONG without a hold, the extra byte reads as a hold of 0, which is never sent.
      const expected =
        frame.kind === FrameKind.Pong && frame.heldUs === undefined
          ? 'frame_malformed'
          : 'frame_trailing_bytes';
      expect(codeOf(() => decodeFrame(longer))).toBe(expected);
    }
  });

  it('refuses unknown frame kinds, unknown message kinds and malformed fields', () => {
    for (const kind of [0x00, 0x0b, 0x7f, 0xff]) {
      expect(codeOf(() => decodeFrame(Uint8Array.from([kind, 0])))).toBe('unknown_frame_kind');
    }
    for (const kind of [0x00, 0x0f, 0x1e, 0xff]) {
      expect(codeOf(() => decodeFrame(Uint8Array.from([FrameKind.Reliable, 1, kind, 0])))).toBe(
        'unknown_frame_kind',
      );
    }
    expect(codeOf(() => decodeFrame(Uint8Array.from([FrameKind.Hello, 1, 2, 0])))).toBe('frame_malformed');
    const welcome = encodeFrame(FRAMES[2]);
    const badBool = Uint8Array.from(welcome);
    badBool[welcome.length - 5] = 2; // the `resumed` byte (two 2-byte varuints follow)
    expect(codeOf(() => decodeFrame(badBool))).toBe('frame_malformed');
    const hugeList = Uint8Array.from([FrameKind.Reliable, 1, MessageKind.Presence, 1, 0xff, 0x7f, 0]);
    expect(codeOf(() => decodeFrame(hugeList))).toBe('list_too_long');
    const badPresent = Uint8Array.from([FrameKind.Reliable, 1, MessageKind.RoomState, 1, 0, 1, 1, 0x6b, 2]);
    expect(codeOf(() => decodeFrame(badPresent))).toBe('frame_malformed');
    const overlong = Uint8Array.from([FrameKind.Ack, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01]);
    expect(codeOf(() => decodeFrame(overlong))).toBe('frame_malformed');
    const badUtf8 = Uint8Array.from([FrameKind.Close, 1, 0xff, 0]);
    expect(codeOf(() => decodeFrame(badUtf8))).toBe('frame_malformed');
  });

  it('enforces maxFrameBytes and maxStringBytes', () => {
    const close = encodeFrame({ kind: FrameKind.Close, code: 'x'.repeat(20), reason: '' });
    expect(codeOf(() => decodeFrame(close, { maxFrameBytes: 100, maxStringBytes: 19 }))).toBe(
      'string_too_long',
    );
    expect(codeOf(() => decodeFrame(close, { maxFrameBytes: close.length - 1, maxStringBytes: 100 }))).toBe(
      'frame_too_large',
    );
    const huge = Uint8Array.from([FrameKind.Close, 0xff, 0xff, 0xff, 0xff, 0x0f]);
    expect(codeOf(() => decodeFrame(huge))).toBe('string_too_long');
  });

  it('builds room frames and data frames byte-identical to encodeFrame', () => {
    const payload = Uint8Array.from([9, 8, 7]);
    for (const reliable of [true, false]) {
      const seq = reliable ? 300 : 65535;
      const message: Message = { kind: MessageKind.Room, handle: 130, op: 5, payload };
      const kind = reliable ? FrameKind.Reliable : FrameKind.Unreliable;
      const viaFrame = encodeFrame({ kind, seq, message } as Frame);
      expect(encodeRoomFrame(reliable, seq, 130, 5, payload)).toEqual(viaFrame);
      const w = new ByteWriter();
      encodeMessage(w, message);
      expect(encodeDataFrame(reliable, seq, w.finish())).toEqual(viaFrame);
    }
    // Unreliable sequence numbers are u16, little-endian.
    expect(Array.from(encodeRoomFrame(false, 0x1234, 0, 1, new Uint8Array(0)))).toEqual([
      FrameKind.Unreliable,
      0x34,
      0x12,
      MessageKind.Room,
      0,
      1,
    ]);
  });

  it('returns room payloads as views of the frame (no copy)', () => {
    const frame = encodeRoomFrame(true, 1, 1, 2, Uint8Array.from([5, 6]));
    const decoded = decodeFrame(frame);
    if (decoded.kind !== FrameKind.Reliable || decoded.message.kind !== MessageKind.Room)
      throw new Error('kind');
    expect(decoded.message.payload.buffer).toBe(frame.buffer);
    expect(Array.from(decoded.message.payload)).toEqual([5, 6]);
  });
});
