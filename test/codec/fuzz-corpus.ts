// Shared by the fuzz test and bench/fuzz.ts: a seeded PRNG, random values per schema, valid and mutated frames.

import {
  decodeFrame,
  defineProtocol,
  encodeFrame,
  encodeRoomFrame,
  type Frame,
  FrameKind,
  MessageKind,
  NetloomError,
  p,
  type Schema,
} from '../../src/codec/index.js';
import { mulberry32 } from '../../src/shared/random.js';

export { mulberry32 };

export type Rng = () => number;

export const int = (rnd: Rng, lo: number, hi: number): number => lo + Math.floor(rnd() * (hi - lo + 1));
const pick = <T>(rnd: Rng, items: readonly T[]): T => items[Math.floor(rnd() * items.length)];

const CHARS = ['a', 'b', 'z', ' ', '0', 'é', 'ß', '日', '本', '😀', '\u0000', '~'];

export function randomString(rnd: Rng, maxChars = 10): string {
  let s = '';
  const n = int(rnd, 0, maxChars);
  for (let i = 0; i < n; i++) s += pick(rnd, CHARS);
  return s;
}

function typedArray<T>(ctor: new (n: number) => T, n: number, fill: (a: T, i: number) => void): T {
  const a = new ctor(n);
  for (let i = 0; i < n; i++) fill(a, i);
  return a;
}

/** A random value that fits `s` (lists up to 5 elements, strings up to 10 characters). */
export function randomValue(s: Schema, rnd: Rng): unknown {
  const len = (fixed: number | undefined) => fixed ?? int(rnd, 0, 5);
  switch (s.type) {
    case 'boolean':
      return rnd() < 0.5;
    case 'string':
      return randomString(rnd);
    case 'varint':
      return rnd() < 0.5 ? int(rnd, -70, 70) : int(rnd, -2147483648, 2147483647);
    case 'varuint':
      return rnd() < 0.5 ? int(rnd, 0, 300) : int(rnd, 0, 4294967295);
    case 'int8':
      return int(rnd, -128, 127);
    case 'uint8':
      return int(rnd, 0, 255);
    case 'int16':
      return int(rnd, -32768, 32767);
    case 'uint16':
      return int(rnd, 0, 65535);
    case 'int32':
      return int(rnd, -2147483648, 2147483647);
    case 'uint32':
      return int(rnd, 0, 4294967295);
    case 'int64':
      return BigInt(int(rnd, -1e15, 1e15)) * 1000n;
    case 'uint64':
      return BigInt(int(rnd, 0, 1e15)) * 10000n;
    case 'float16':
      return int(rnd, -2000, 2000) / 4;
    case 'float32':
    case 'float64':
      return (rnd() - 0.5) * 1e6;
    case 'quantized':
      return s.min + rnd() * (s.max - s.min);
    case 'quat': {
      const q = [rnd() - 0.5, rnd() - 0.5, rnd() - 0.5, rnd() - 0.5];
      const m = Math.hypot(...q) || 1;
      return q.map((c) => c / m);
    }
    case 'uv2': {
      const a = rnd() * Math.PI * 2;
      return [Math.cos(a), Math.sin(a)];
    }
    case 'uv3': {
      const v = [rnd() - 0.5, rnd() - 0.5, rnd() - 0.5];
      const m = Math.hypot(...v) || 1;
      return v.map((c) => c / m);
    }
    case 'list':
      return Array.from({ length: len(s.length) }, () => randomValue(s.of, rnd));
    case 'tuple':
      return s.of.map((c) => randomValue(c, rnd));
    case 'object': {
      const out: Record<string, unknown> = {};
      for (const [k, c] of Object.entries(s.fields)) out[k] = randomValue(c, rnd);
      return out;
    }
    case 'record': {
      const out: Record<string, unknown> = {};
      const n = int(rnd, 0, 4);
      for (let i = 0; i < n; i++) out[`k${randomString(rnd, 4)}`] = randomValue(s.field, rnd);
      return out;
    }
    case 'literal':
      return s.value;
    case 'enumeration':
      return pick(rnd, s.values);
    case 'nullable':
      return rnd() < 0.3 ? null : randomValue(s.of, rnd);
    case 'optional':
      return rnd() < 0.3 ? undefined : randomValue(s.of, rnd);
    case 'nullish': {
      const r = rnd();
      return r < 0.2 ? null : r < 0.4 ? undefined : randomValue(s.of, rnd);
    }
    case 'union':
      return randomValue(pick(rnd, s.variants), rnd);
    case 'uint8Array':
      return typedArray(Uint8Array, len(s.length), (a, i) => (a[i] = int(rnd, 0, 255)));
    case 'int8Array':
      return typedArray(Int8Array, len(s.length), (a, i) => (a[i] = int(rnd, -128, 127)));
    case 'uint8ClampedArray':
      return typedArray(Uint8ClampedArray, len(s.length), (a, i) => (a[i] = int(rnd, 0, 255)));
    case 'int16Array':
      return typedArray(Int16Array, len(s.length), (a, i) => (a[i] = int(rnd, -32768, 32767)));
    case 'uint16Array':
      return typedArray(Uint16Array, len(s.length), (a, i) => (a[i] = int(rnd, 0, 65535)));
    case 'int32Array':
      return typedArray(Int32Array, len(s.length), (a, i) => (a[i] = int(rnd, -1e9, 1e9)));
    case 'uint32Array':
      return typedArray(Uint32Array, len(s.length), (a, i) => (a[i] = int(rnd, 0, 4e9)));
    case 'float32Array':
      return typedArray(Float32Array, len(s.length), (a, i) => (a[i] = rnd() * 100));
    case 'float64Array':
      return typedArray(Float64Array, len(s.length), (a, i) => (a[i] = rnd() * 100));
    case 'bigInt64Array':
      return typedArray(BigInt64Array, len(s.length), (a, i) => (a[i] = BigInt(int(rnd, -1e9, 1e9))));
    case 'bigUint64Array':
      return typedArray(BigUint64Array, len(s.length), (a, i) => (a[i] = BigInt(int(rnd, 0, 1e9))));
  }
}

const player = p.object({ id: p.varuint(), x: p.float32(), y: p.float32() });

/** A realistic protocol: the arena messages plus strings, lists, unions, optionals, records and blobs. */
export const fuzzProtocol = defineProtocol({
  client: {
    input: p.object({
      seq: p.varuint(),
      dx: p.float32(),
      dy: p.float32(),
      fire: p.boolean(),
      jump: p.boolean(),
    }),
    chat: p.object({
      text: p.string(),
      to: p.optional(p.varuint()),
      team: p.nullable(p.enumeration(['red', 'blue'])),
    }),
    command: {
      op: 40,
      schema: p.union('type', [
        p.object({
          type: p.literal('move'),
          x: p.quantized(-100, 100, { step: 0.01 }),
          y: p.quantized(0, 1, { bytes: 1 }),
        }),
        p.object({ type: p.literal('aim'), dir: p.uv2(), rot: p.quat(), up: p.uv3() }),
        p.object({ type: p.literal('emote'), id: p.enumeration([1, 2, 3]), loud: p.nullish(p.boolean()) }),
      ]),
    },
    settings: p.object({
      name: p.string(),
      volume: p.uint8(),
      keys: p.record(p.string()),
      flags: p.list(p.boolean()),
    }),
    path: p.object({ points: p.list(p.tuple([p.int16(), p.int16(), p.boolean()])), closed: p.boolean() }),
    blob: p.object({ data: p.uint8Array(), hash: p.uint8Array(8), samples: p.optional(p.float32Array()) }),
    grid: p.list(p.list(p.varint())),
    ping: p.tuple([p.float64(), p.int64(), p.literal('v1')]),
  },
  server: {
    state: p.object({ tick: p.varuint(), ack: p.varuint(), players: p.list(player) }),
    said: p.object({ from: p.varuint(), text: p.string() }),
  },
});

type RoomMessage = Extract<Frame, { kind: typeof FrameKind.Reliable }>['message'];

/** A valid room message carrying a random client message. */
function randomRoomFrame(rnd: Rng): Uint8Array {
  const info = pick(rnd, fuzzProtocol.client.messages);
  const value = randomValue(info.schema, rnd);
  const { op, payload } = fuzzProtocol.client.encode(info.name as 'input', value as never);
  const reliable = rnd() < 0.5;
  return encodeRoomFrame(
    reliable,
    reliable ? int(rnd, 1, 100000) : int(rnd, 0, 65535),
    int(rnd, 0, 40),
    op,
    payload,
  );
}

function randomSystemFrame(rnd: Rng): Uint8Array {
  const handle = int(rnd, 0, 300);
  const message = (): RoomMessage =>
    pick(rnd, [
      { kind: MessageKind.Join, handle, seat: randomString(rnd, 30) },
      { kind: MessageKind.Leave, handle },
      { kind: MessageKind.Left, handle, code: 'kicked', reason: randomString(rnd) },
      {
        kind: MessageKind.Joined,
        handle,
        roomId: randomString(rnd),
        roomType: 'arena',
        clientId: randomString(rnd),
        protocolHash: fuzzProtocol.hash,
      },
      { kind: MessageKind.JoinFailed, handle, code: 'room_full', message: randomString(rnd) },
      {
        kind: MessageKind.RpcRequest,
        id: handle,
        name: randomString(rnd),
        payload: Uint8Array.from([int(rnd, 0, 255), int(rnd, 0, 255)]),
      },
      {
        kind: MessageKind.RpcResponse,
        id: handle,
        ok: false,
        code: 'rpc_failed',
        message: randomString(rnd),
      },
      {
        kind: MessageKind.Presence,
        handle,
        joins: [{ clientId: randomString(rnd), userId: randomString(rnd) }],
        leaves: [randomString(rnd)],
      },
      {
        kind: MessageKind.RoomState,
        handle,
        reset: rnd() < 0.5,
        changes: [{ key: randomString(rnd), value: rnd() < 0.5 ? null : '1' }],
      },
      { kind: MessageKind.Notice, code: 'message_rate_exceeded', message: randomString(rnd) },
      { kind: MessageKind.Push, op: handle, payload: Uint8Array.from([int(rnd, 0, 255), int(rnd, 0, 255)]) },
    ] satisfies RoomMessage[]);
  const frames: Frame[] = [
    { kind: FrameKind.Hello, version: 1, mode: 'new', handle, seat: randomString(rnd, 40) },
    {
      kind: FrameKind.Hello,
      version: 1,
      mode: 'resume',
      sessionToken: randomString(rnd, 40),
      lastReceived: handle,
    },
    {
      kind: FrameKind.Welcome,
      sessionId: randomString(rnd),
      sessionToken: randomString(rnd, 30),
      lastReceived: int(rnd, 0, 1e6),
      resumed: rnd() < 0.5,
      pingIntervalMs: 2000,
      idleTimeoutMs: 15000,
    },
    { kind: FrameKind.Ack, lastReceived: int(rnd, 0, 2 ** 40) },
    { kind: FrameKind.Ping, id: int(rnd, 0, 1e6) },
    { kind: FrameKind.Pong, id: int(rnd, 0, 1e6) },
    { kind: FrameKind.Pong, id: int(rnd, 0, 1e6), heldUs: int(rnd, 1, 100_000) },
    { kind: FrameKind.Close, code: 'idle_timeout', reason: randomString(rnd) },
    { kind: FrameKind.Reliable, seq: int(rnd, 1, 1e6), message: message() },
    { kind: FrameKind.Unreliable, seq: int(rnd, 0, 65535), message: message() },
  ];
  return encodeFrame(pick(rnd, frames));
}

/** A valid frame: mostly room messages, sometimes system frames. */
export function validFrame(rnd: Rng): Uint8Array {
  return rnd() < 0.75 ? randomRoomFrame(rnd) : randomSystemFrame(rnd);
}

const HUGE_VARUINTS = [
  [0xff, 0xff, 0xff, 0xff, 0x0f],
  [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01],
  [0x80, 0x20],
  [0xff, 0x7f],
];

/** Mutates a valid frame: bit flips, truncation, insertion, deletion, length-field corruption or splicing. */
export function mutate(frame: Uint8Array, rnd: Rng): Uint8Array {
  const bytes = Array.from(frame);
  const rounds = int(rnd, 1, 3);
  for (let r = 0; r < rounds; r++) {
    const at = int(rnd, 0, Math.max(0, bytes.length - 1));
    switch (int(rnd, 0, 6)) {
      case 0:
        bytes[at] ^= 1 << int(rnd, 0, 7);
        break;
      case 1:
        bytes.length = int(rnd, 0, bytes.length);
        break;
      case 2:
        bytes.splice(at, 0, ...Array.from({ length: int(rnd, 1, 4) }, () => int(rnd, 0, 255)));
        break;
      case 3:
        bytes.splice(at, int(rnd, 1, 3));
        break;
      case 4:
        bytes.splice(at, int(rnd, 1, 2), ...pick(rnd, HUGE_VARUINTS));
        break;
      case 5:
        bytes[at] = pick(rnd, [0, 1, 2, 3, 0x7f, 0x80, 0xff]);
        break;
      default:
        bytes.push(...Array.from(validFrame(rnd)).slice(int(rnd, 0, 6)));
        break;
    }
  }
  return Uint8Array.from(bytes);
}

/** Random bytes, sometimes starting with a valid frame kind so they get past the first byte. */
export function randomBytes(rnd: Rng): Uint8Array {
  const out = new Uint8Array(int(rnd, 0, 40));
  for (let i = 0; i < out.length; i++) out[i] = int(rnd, 0, 255);
  if (out.length > 0 && rnd() < 0.6) out[0] = int(rnd, 1, 8);
  if (out.length > 1 && rnd() < 0.4)
    out[out.length > 3 ? 3 : 1] =
      rnd() < 0.5 ? MessageKind.Room : int(rnd, MessageKind.Join, MessageKind.Push);
  return out;
}

/** One fuzz input: 20% valid frames, 60% mutated valid frames, 20% random bytes. */
export function fuzzInput(rnd: Rng): Uint8Array {
  const r = rnd();
  if (r < 0.2) return validFrame(rnd);
  if (r < 0.8) return mutate(validFrame(rnd), rnd);
  return randomBytes(rnd);
}

/**
 * The server's decode path: decodeFrame, then the room payload through the protocol.
 * Returns 'ok' or the NetloomError code; rethrows anything that is not a NetloomError.
 */
export function serverDecode(bytes: Uint8Array): string {
  try {
    const frame = decodeFrame(bytes);
    if (
      (frame.kind === FrameKind.Reliable || frame.kind === FrameKind.Unreliable) &&
      frame.message.kind === MessageKind.Room
    ) {
      fuzzProtocol.client.decode(frame.message.op, frame.message.payload);
    }
    return 'ok';
  } catch (err) {
    if (err instanceof NetloomError) return err.code;
    throw err;
  }
}
