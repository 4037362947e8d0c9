// The session frame envelope: system frames (hello, welcome, ack, ping, close) and the messages inside data frames.
import { ByteReader, ByteWriter, varuintSize, writeVaruint } from './bytes.js';
import { NetloomError } from './errors.js';

/** Wire version carried in HELLO; a server refuses versions it does not speak. */
export const WIRE_VERSION = 1;

/** First byte of every frame a link carries. */
export const FrameKind = {
  Hello: 0x01,
  Welcome: 0x02,
  Reliable: 0x03,
  Unreliable: 0x04,
  Ack: 0x05,
  Ping: 0x06,
  Pong: 0x07,
  Close: 0x08,
} as const;

/** First byte of the message inside a Reliable or Unreliable frame. */
export const MessageKind = {
  Join: 0x10,
  Joined: 0x11,
  JoinFailed: 0x12,
  Leave: 0x13,
  Left: 0x14,
  Room: 0x15,
  /** Session level: a request to a server endpoint (RPC). */
  RpcRequest: 0x16,
  /** Session level: the answer to an RpcRequest with the same id. */
  RpcResponse: 0x17,
  /** Room level: members who joined and left the room. */
  Presence: 0x18,
  /** Room level: changes to the room's key-value state. */
  RoomState: 0x19,
  /** Session level: a warning or notice from the server (rate limit, shutdown). */
  Notice: 0x1a,
  /** Session level: a server message (broadcast or multicast) typed by the server's notice protocol. */
  Push: 0x1b,
} as const;

/** One room member as presence reports it. */
export interface PresenceMember {
  clientId: string;
  /** The authenticated user id, or '' for an anonymous member. */
  userId: string;
}

/** One key of a room's key-value state; `value` is JSON text, or null when the key was deleted. */
export interface StateChange {
  key: string;
  value: string | null;
}

/** Limits applied while decoding untrusted frames. Every limit has a default. */
export interface FrameLimits {
  /** Largest frame accepted, in bytes (default 65,536). */
  maxFrameBytes: number;
  /** Longest string field (token, code, reason, id), in bytes (default 4,096: a seat token carries up to 2 KiB of identity). */
  maxStringBytes: number;
}

export const DEFAULT_FRAME_LIMITS: FrameLimits = { maxFrameBytes: 65_536, maxStringBytes: 4_096 };

export type Hello =
  | { kind: typeof FrameKind.Hello; version: number; mode: 'new'; handle: number; seat: string }
  | {
      kind: typeof FrameKind.Hello;
      version: number;
      mode: 'resume';
      sessionToken: string;
      lastReceived: number;
    };

export interface Welcome {
  kind: typeof FrameKind.Welcome;
  sessionId: string;
  sessionToken: string;
  /** Highest reliable sequence the sender has delivered (0 = none). */
  lastReceived: number;
  resumed: boolean;
  pingIntervalMs: number;
  idleTimeoutMs: number;
}

export type Message =
  | { kind: typeof MessageKind.Join; handle: number; seat: string }
  | {
      kind: typeof MessageKind.Joined;
      handle: number;
      roomId: string;
      roomType: string;
      clientId: string;
      protocolHash: string;
    }
  | { kind: typeof MessageKind.JoinFailed; handle: number; code: string; message: string }
  | { kind: typeof MessageKind.Leave; handle: number }
  | { kind: typeof MessageKind.Left; handle: number; code: string; reason: string }
  | { kind: typeof MessageKind.Room; handle: number; op: number; payload: Uint8Array }
  | { kind: typeof MessageKind.RpcRequest; id: number; name: string; payload: Uint8Array }
  | { kind: typeof MessageKind.RpcResponse; id: number; ok: true; payload: Uint8Array }
  | { kind: typeof MessageKind.RpcResponse; id: number; ok: false; code: string; message: string }
  | { kind: typeof MessageKind.Presence; handle: number; joins: PresenceMember[]; leaves: string[] }
  | { kind: typeof MessageKind.RoomState; handle: number; reset: boolean; changes: StateChange[] }
  | { kind: typeof MessageKind.Notice; code: string; message: string }
  | { kind: typeof MessageKind.Push; op: number; payload: Uint8Array };

/** Messages that name a room membership by its handle. */
export type RoomScopedMessage = Extract<Message, { handle: number }>;

export type Frame =
  | Hello
  | Welcome
  | { kind: typeof FrameKind.Reliable; seq: number; message: Message }
  | { kind: typeof FrameKind.Unreliable; seq: number; message: Message }
  | { kind: typeof FrameKind.Ack; lastReceived: number }
  | { kind: typeof FrameKind.Ping; id: number }
  | { kind: typeof FrameKind.Pong; id: number }
  | { kind: typeof FrameKind.Close; code: string; reason: string };

/**
 * Decodes one frame from untrusted bytes. Never reads out of bounds; throws a NetloomError
 * (`frame_empty`, `frame_too_large`, `frame_truncated`, `frame_trailing_bytes`,
 * `unknown_frame_kind`, `frame_malformed`, `string_too_long`) on anything malformed.
 * Room payloads are returned as views and are checked later against the room's protocol.
 */
export function decodeFrame(bytes: Uint8Array, limits: FrameLimits = DEFAULT_FRAME_LIMITS): Frame {
  if (bytes.length === 0) throw new NetloomError('frame_empty', 'empty frame');
  if (bytes.length > limits.maxFrameBytes) {
    throw new NetloomError(
      'frame_too_large',
      `frame of ${bytes.length} bytes exceeds ${limits.maxFrameBytes}`,
    );
  }
  const r = new ByteReader(bytes);
  const kind = r.u8();
  const maxS = limits.maxStringBytes;
  let frame: Frame;
  switch (kind) {
    case FrameKind.Hello: {
      const version = r.u8();
      const mode = r.u8();
      if (mode === 0) {
        frame = { kind, version, mode: 'new', handle: r.varuint(), seat: r.string(maxS) };
      } else if (mode === 1) {
        frame = { kind, version, mode: 'resume', sessionToken: r.string(maxS), lastReceived: r.varuint() };
      } else {
        throw new NetloomError('frame_malformed', `unknown hello mode ${mode}`);
      }
      break;
    }
    case FrameKind.Welcome:
      frame = {
        kind,
        sessionId: r.string(maxS),
        sessionToken: r.string(maxS),
        lastReceived: r.varuint(),
        resumed: readBool(r),
        pingIntervalMs: r.varuint(),
        idleTimeoutMs: r.varuint(),
      };
      break;
    case FrameKind.Reliable:
      frame = { kind, seq: r.varuint(), message: decodeMessage(r, maxS) };
      break;
    case FrameKind.Unreliable:
      frame = { kind, seq: r.u16(), message: decodeMessage(r, maxS) };
      break;
    case FrameKind.Ack:
      frame = { kind, lastReceived: r.varuint() };
      break;
    case FrameKind.Ping:
    case FrameKind.Pong:
      frame = { kind, id: r.varuint() };
      break;
    case FrameKind.Close:
      frame = { kind, code: r.string(maxS), reason: r.string(maxS) };
      break;
    default:
      throw new NetloomError('unknown_frame_kind', `unknown frame kind 0x${kind.toString(16)}`);
  }
  r.done();
  return frame;
}

function readBool(r: ByteReader): boolean {
  const b = r.u8();
  if (b > 1) throw new NetloomError('frame_malformed', `boolean byte ${b}`);
  return b === 1;
}

function decodeMessage(r: ByteReader, maxS: number): Message {
  const kind = r.u8();
  switch (kind) {
    case MessageKind.Join:
      return { kind, handle: r.varuint(), seat: r.string(maxS) };
    case MessageKind.Joined:
      return {
        kind,
        handle: r.varuint(),
        roomId: r.string(maxS),
        roomType: r.string(maxS),
        clientId: r.string(maxS),
        protocolHash: r.string(maxS),
      };
    case MessageKind.JoinFailed:
      return { kind, handle: r.varuint(), code: r.string(maxS), message: r.string(maxS) };
    case MessageKind.Leave:
      return { kind, handle: r.varuint() };
    case MessageKind.Left:
      return { kind, handle: r.varuint(), code: r.string(maxS), reason: r.string(maxS) };
    case MessageKind.Room:
      return { kind, handle: r.varuint(), op: r.varuint(), payload: r.rest() };
    case MessageKind.RpcRequest:
      return { kind, id: r.varuint(), name: r.string(maxS), payload: r.rest() };
    case MessageKind.RpcResponse: {
      const id = r.varuint();
      return readBool(r)
        ? { kind, id, ok: true, payload: r.rest() }
        : { kind, id, ok: false, code: r.string(maxS), message: r.string(maxS) };
    }
    case MessageKind.Presence: {
      const handle = r.varuint();
      const joins: PresenceMember[] = [];
      for (let n = readCount(r, 2); n > 0; n--)
        joins.push({ clientId: r.string(maxS), userId: r.string(maxS) });
      const leaves: string[] = [];
      for (let n = readCount(r, 1); n > 0; n--) leaves.push(r.string(maxS));
      return { kind, handle, joins, leaves };
    }
    case MessageKind.RoomState: {
      const handle = r.varuint();
      const reset = readBool(r);
      const changes: StateChange[] = [];
      for (let n = readCount(r, 2); n > 0; n--) {
        const key = r.string(maxS);
        changes.push({ key, value: readBool(r) ? r.string(MAX_STATE_VALUE_BYTES) : null });
      }
      return { kind, handle, reset, changes };
    }
    case MessageKind.Notice:
      return { kind, code: r.string(maxS), message: r.string(maxS) };
    case MessageKind.Push:
      return { kind, op: r.varuint(), payload: r.rest() };
    default:
      throw new NetloomError('unknown_frame_kind', `unknown message kind 0x${kind.toString(16)}`);
  }
}

/** Longest JSON value of one room-state key on the wire (the frame limit bounds it further). */
export const MAX_STATE_VALUE_BYTES = 65_536;

/** Reads a list count; each item takes at least `minItemBytes`, so a count the frame cannot hold is refused. */
function readCount(r: ByteReader, minItemBytes: number): number {
  const n = r.varuint();
  if (n * minItemBytes > r.remaining)
    throw new NetloomError('list_too_long', `list of ${n} items cannot fit`);
  return n;
}

/** Encodes any frame. The hot path for room messages is `encodeRoomFrame`, which avoids the writer. */
export function encodeFrame(frame: Frame): Uint8Array {
  const w = new ByteWriter(32);
  w.u8(frame.kind);
  switch (frame.kind) {
    case FrameKind.Hello:
      w.u8(frame.version);
      if (frame.mode === 'new') w.u8(0).varuint(frame.handle).string(frame.seat);
      else w.u8(1).string(frame.sessionToken).varuint(frame.lastReceived);
      break;
    case FrameKind.Welcome:
      w.string(frame.sessionId).string(frame.sessionToken).varuint(frame.lastReceived);
      w.u8(frame.resumed ? 1 : 0)
        .varuint(frame.pingIntervalMs)
        .varuint(frame.idleTimeoutMs);
      break;
    case FrameKind.Reliable:
      w.varuint(frame.seq);
      encodeMessage(w, frame.message);
      break;
    case FrameKind.Unreliable:
      w.u16(frame.seq);
      encodeMessage(w, frame.message);
      break;
    case FrameKind.Ack:
      w.varuint(frame.lastReceived);
      break;
    case FrameKind.Ping:
    case FrameKind.Pong:
      w.varuint(frame.id);
      break;
    case FrameKind.Close:
      w.string(frame.code).string(frame.reason);
      break;
  }
  return w.finish();
}

/** Encodes a message body alone (what goes after the data-frame header). */
export function encodeMessage(w: ByteWriter, message: Message): void {
  w.u8(message.kind);
  switch (message.kind) {
    case MessageKind.Join:
      w.varuint(message.handle).string(message.seat);
      break;
    case MessageKind.Joined:
      w.varuint(message.handle);
      w.string(message.roomId).string(message.roomType).string(message.clientId).string(message.protocolHash);
      break;
    case MessageKind.JoinFailed:
      w.varuint(message.handle).string(message.code).string(message.message);
      break;
    case MessageKind.Leave:
      w.varuint(message.handle);
      break;
    case MessageKind.Left:
      w.varuint(message.handle).string(message.code).string(message.reason);
      break;
    case MessageKind.Room:
      w.varuint(message.handle).varuint(message.op).bytes(message.payload);
      break;
    case MessageKind.RpcRequest:
      w.varuint(message.id).string(message.name).bytes(message.payload);
      break;
    case MessageKind.RpcResponse:
      w.varuint(message.id).u8(message.ok ? 1 : 0);
      if (message.ok) w.bytes(message.payload);
      else w.string(message.code).string(message.message);
      break;
    case MessageKind.Presence:
      w.varuint(message.handle).varuint(message.joins.length);
      for (const m of message.joins) w.string(m.clientId).string(m.userId);
      w.varuint(message.leaves.length);
      for (const id of message.leaves) w.string(id);
      break;
    case MessageKind.RoomState:
      w.varuint(message.handle)
        .u8(message.reset ? 1 : 0)
        .varuint(message.changes.length);
      for (const c of message.changes) {
        w.string(c.key);
        if (c.value === null) w.u8(0);
        else w.u8(1).string(c.value);
      }
      break;
    case MessageKind.Notice:
      w.string(message.code).string(message.message);
      break;
    case MessageKind.Push:
      w.varuint(message.op).bytes(message.payload);
      break;
  }
}

/** Size of the message header of a room message (kind, handle, op) before its payload. */
export function roomHeaderSize(handle: number, op: number): number {
  return 1 + varuintSize(handle) + varuintSize(op);
}

/**
 * Encodes a data frame carrying a room message in one allocation:
 * `[Reliable seq:varuint | Unreliable seq:u16] [Room handle op] payload`.
 */
export function encodeRoomFrame(
  reliable: boolean,
  seq: number,
  handle: number,
  op: number,
  payload: Uint8Array,
  /** Bytes left free before the frame (a link may write its own header there instead of copying). */
  spare = 0,
  /** Allocates the output; its spare bytes need not be zeroed. */
  allocate: (size: number) => Uint8Array = newBytes,
): Uint8Array {
  const seqSize = reliable ? varuintSize(seq) : 2;
  const out = allocate(spare + 1 + seqSize + roomHeaderSize(handle, op) + payload.length);
  let o = spare;
  out[o++] = reliable ? FrameKind.Reliable : FrameKind.Unreliable;
  if (reliable) o = writeVaruint(out, o, seq);
  else {
    out[o++] = seq & 0xff;
    out[o++] = (seq >>> 8) & 0xff;
  }
  out[o++] = MessageKind.Room;
  o = writeVaruint(out, o, handle);
  o = writeVaruint(out, o, op);
  out.set(payload, o);
  return out;
}

function newBytes(size: number): Uint8Array {
  return new Uint8Array(size);
}

/** Encodes a data frame around an already-encoded message body. */
export function encodeDataFrame(reliable: boolean, seq: number, body: Uint8Array): Uint8Array {
  const seqSize = reliable ? varuintSize(seq) : 2;
  const out = new Uint8Array(1 + seqSize + body.length);
  let o = 0;
  out[o++] = reliable ? FrameKind.Reliable : FrameKind.Unreliable;
  if (reliable) o = writeVaruint(out, o, seq);
  else {
    out[o++] = seq & 0xff;
    out[o++] = (seq >>> 8) & 0xff;
  }
  out.set(body, o);
  return out;
}
