// Messages inside data frames: room messages (join, leave, room data, presence, state) and session messages (RPC, notice, push).
import type { ByteReader, ByteWriter } from './bytes.js';
import { NetloomError } from './errors.js';

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
  /** Session level: a signaling message (WebRTC offer, answer, candidate, ...) to or from `peer` ('' = the server). */
  Signal: 0x1c,
  /** Room level: peer-assisted rooms — a peer frame relayed between members, the peer set-up, or a refusal. */
  Peer: 0x1d,
} as const;

/** What a PEER message carries (the byte after its handle). */
export const PeerPart = {
  /** A peer frame to (client → server) or from (server → client) the member `peer`. */
  Frame: 0,
  /** Server → client: the member's peer set-up (JSON text). */
  Setup: 1,
  /** Server → client: a frame this client sent to `peer` was refused (`code`). */
  Refused: 2,
} as const;

/** Longest peer set-up (JSON text) on the wire. */
export const MAX_PEER_SETUP_BYTES = 16_384;

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
  | { kind: typeof MessageKind.Push; op: number; payload: Uint8Array }
  | { kind: typeof MessageKind.Signal; peer: string; payload: string }
  | PeerMessage;

/** A PEER message (WIRE.md §4): one part of a peer-assisted room's traffic. */
export type PeerMessage =
  | {
      kind: typeof MessageKind.Peer;
      handle: number;
      part: typeof PeerPart.Frame;
      peer: string;
      frame: Uint8Array;
    }
  | { kind: typeof MessageKind.Peer; handle: number; part: typeof PeerPart.Setup; setup: string }
  | {
      kind: typeof MessageKind.Peer;
      handle: number;
      part: typeof PeerPart.Refused;
      peer: string;
      code: string;
      reason: string;
    };

/** Messages that name a room membership by its handle. */
export type RoomScopedMessage = Extract<Message, { handle: number }>;

export function readBool(r: ByteReader): boolean {
  const b = r.u8();
  if (b > 1) throw new NetloomError('frame_malformed', `boolean byte ${b}`);
  return b === 1;
}

/** Decodes the message of a data frame from `r` (the caller checks for trailing bytes). */
export function decodeMessage(r: ByteReader, maxS: number): Message {
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
    case MessageKind.Signal:
      return { kind, peer: r.string(maxS), payload: r.string(MAX_SIGNAL_BYTES) };
    case MessageKind.Peer:
      return decodePeer(r, maxS);
    default:
      throw new NetloomError('unknown_frame_kind', `unknown message kind 0x${kind.toString(16)}`);
  }
}

/** Decodes the fields of a PEER message after its kind byte. */
function decodePeer(r: ByteReader, maxS: number): PeerMessage {
  const kind = MessageKind.Peer;
  const handle = r.varuint();
  const part = r.u8();
  switch (part) {
    case PeerPart.Frame: {
      const peer = r.string(maxS);
      const frame = r.rest();
      if (frame.length === 0) throw new NetloomError('frame_truncated', 'peer frame is empty');
      return { kind, handle, part, peer, frame };
    }
    case PeerPart.Setup:
      return { kind, handle, part, setup: r.string(MAX_PEER_SETUP_BYTES) };
    case PeerPart.Refused:
      return { kind, handle, part, peer: r.string(maxS), code: r.string(maxS), reason: r.string(maxS) };
    default:
      throw new NetloomError('frame_malformed', `unknown peer part ${part}`);
  }
}

/** Longest signaling payload (JSON text: an SDP offer or answer with its candidates) on the wire. */
export const MAX_SIGNAL_BYTES = 32_768;

/** Longest JSON value of one room-state key on the wire (the frame limit bounds it further). */
export const MAX_STATE_VALUE_BYTES = 65_536;

/** Reads a list count; each item takes at least `minItemBytes`, so a count the frame cannot hold is refused. */
function readCount(r: ByteReader, minItemBytes: number): number {
  const n = r.varuint();
  if (n * minItemBytes > r.remaining)
    throw new NetloomError('list_too_long', `list of ${n} items cannot fit`);
  return n;
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
    case MessageKind.Signal:
      w.string(message.peer).string(message.payload);
      break;
    case MessageKind.Peer:
      w.varuint(message.handle).u8(message.part);
      if (message.part === PeerPart.Frame) w.string(message.peer).bytes(message.frame);
      else if (message.part === PeerPart.Setup) w.string(message.setup);
      else w.string(message.peer).string(message.code).string(message.reason);
      break;
  }
}
