// The session frame envelope: system frames (hello, welcome, ack, ping, close) and data frames around messages.
import { ByteReader, ByteWriter, varuintSize, writeVaruint } from './bytes.js';
import { NetloomError } from './errors.js';
import { decodeMessage, encodeMessage, type Message, MessageKind, readBool } from './messages.js';

export {
  decodeMessage,
  encodeMessage,
  MAX_PEER_SETUP_BYTES,
  MAX_SIGNAL_BYTES,
  MAX_STATE_VALUE_BYTES,
  type Message,
  MessageKind,
  type PeerMessage,
  PeerPart,
  type PresenceMember,
  type RoomScopedMessage,
  type StateChange,
} from './messages.js';

/** Wire version carried in HELLO; a server refuses versions it does not speak. */
export const WIRE_VERSION = 2;

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
  /**
   * Sent on a link that is to carry the session from now on (transport upgrade or fallback): the
   * receiver makes it its sending link and resends its unacknowledged reliable frames after
   * `lastReceived` there. The other link stays open as a standby.
   */
  Switch: 0x09,
  /** The answer to SWITCH, on the same link: the receiver now sends on it too. */
  SwitchAck: 0x0a,
} as const;

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

export type Frame =
  | Hello
  | Welcome
  | { kind: typeof FrameKind.Reliable; seq: number; message: Message }
  | { kind: typeof FrameKind.Unreliable; seq: number; message: Message }
  | { kind: typeof FrameKind.Ack; lastReceived: number }
  | { kind: typeof FrameKind.Ping; id: number }
  /** `heldUs`: how long the answer waited for a data frame to ride with (µs; absent on the wire = 0). */
  | { kind: typeof FrameKind.Pong; id: number; heldUs?: number }
  | { kind: typeof FrameKind.Close; code: string; reason: string }
  | { kind: typeof FrameKind.Switch | typeof FrameKind.SwitchAck; lastReceived: number };

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
      frame = { kind, id: r.varuint() };
      break;
    case FrameKind.Pong: {
      const id = r.varuint();
      if (r.remaining === 0) {
        frame = { kind, id };
        break;
      }
      const heldUs = r.varuint();
      // A PONG sent at once has no hold field: a hold of 0 is not its canonical form.
      if (heldUs === 0) throw new NetloomError('frame_malformed', 'PONG hold of 0 µs');
      frame = { kind, id, heldUs };
      break;
    }
    case FrameKind.Close:
      frame = { kind, code: r.string(maxS), reason: r.string(maxS) };
      break;
    case FrameKind.Switch:
    case FrameKind.SwitchAck:
      frame = { kind, lastReceived: r.varuint() };
      break;
    default:
      throw new NetloomError('unknown_frame_kind', `unknown frame kind 0x${kind.toString(16)}`);
  }
  r.done();
  return frame;
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
      w.varuint(frame.id);
      break;
    case FrameKind.Pong:
      w.varuint(frame.id);
      if (frame.heldUs !== undefined && frame.heldUs > 0) w.varuint(frame.heldUs);
      break;
    case FrameKind.Close:
      w.string(frame.code).string(frame.reason);
      break;
    case FrameKind.Switch:
    case FrameKind.SwitchAck:
      w.varuint(frame.lastReceived);
      break;
  }
  return w.finish();
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
