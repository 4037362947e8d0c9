// defineRoom(): the typed shape of an authoritative room — options, lifecycle hooks and message handlers.
import type { ClientMessages, ServerMessages } from '../../codec/protocol.js';
import type { Clock } from '../../shared/clock.js';
import type { Identity } from '../identity.js';
import type { Logger } from '../metrics.js';
import type { PeerRoomOptions } from './peers/options.js';
import type { PeerDirection } from './peers/room-peers.js';
import type { RoomMember } from './presence.js';
import type { RoomState, RoomStateLimits } from './room-state.js';

/** What the server needs of a protocol at run time; every `defineProtocol(...)` result fits. */
export interface AnyProtocol {
  readonly hash: string;
  readonly client: {
    decode(op: number, payload: Uint8Array): { name: string; value: unknown };
    /** `decode` without the name (the room's hot path). */
    decodeValue(op: number, payload: Uint8Array): unknown;
    nameOf(op: number): string | undefined;
    readonly messages: readonly { readonly name: string; readonly op: number }[];
  };
  readonly server: { encodeTransient(name: string, value: unknown): { op: number; payload: Uint8Array } };
  /** The messages members send each other (peer-assisted rooms). */
  readonly peer?: PeerDirection;
}

/** One player in a room, as room code sees it. */
export interface RoomClient<U = unknown> {
  /** Unique within the room; stable across reconnections. */
  readonly id: string;
  /** The session carrying this membership. */
  readonly sessionId: string;
  /** What `onAuth` returned as `data`. */
  data: U;
  /** What the client passed when joining. */
  readonly joinData: unknown;
  /** The authenticated user's id (undefined for anonymous play). */
  readonly userId: string | undefined;
  /** The identity `authenticate` returned for the request that reserved this seat. */
  readonly auth: Identity | undefined;
  /** `dropped` while its link is gone and the reconnection window runs. */
  readonly state: 'joined' | 'dropped';
}

export interface SendOptions {
  /** Reliable (default) is ordered and survives reconnection; unreliable may drop and is never buffered. */
  reliable?: boolean;
}

export interface BroadcastOptions<U> extends SendOptions {
  /** Skip these clients. */
  except?: RoomClient<U> | readonly RoomClient<U>[];
  /** Send only to these clients. */
  only?: readonly RoomClient<U>[];
}

/** Why a client left a room. */
export type LeaveReason =
  | 'consented'
  | 'dropped'
  | 'reconnection_expired'
  | 'kicked'
  | 'disposed'
  /** The cluster took this room's node for dead (it missed heartbeats); its seats were given up. */
  | 'lost'
  | 'session_ended';

/** The room handle passed to every hook. */
export interface Room<P extends AnyProtocol, D = undefined, U = unknown> {
  readonly id: string;
  readonly type: string;
  /** Per-room simulation state, made by the definition's `data()`. */
  readonly data: D;
  readonly clients: ReadonlyMap<string, RoomClient<U>>;
  /** Number of ticks run so far. */
  readonly tick: number;
  readonly clock: Clock;
  readonly log: Logger;
  /** Sends one message to one client. */
  send<K extends keyof ServerMessages<P> & string>(
    client: RoomClient<U>,
    type: K,
    message: ServerMessages<P>[K],
    options?: SendOptions,
  ): void;
  /** Sends one message to every joined client (encoded once). */
  broadcast<K extends keyof ServerMessages<P> & string>(
    type: K,
    message: ServerMessages<P>[K],
    options?: BroadcastOptions<U>,
  ): void;
  /** Keeps a dropped client's seat for `ms`; call from `onDrop`. */
  allowReconnection(client: RoomClient<U>, ms: number): void;
  /** Removes a client with reason `kicked`. */
  kick(client: RoomClient<U>, reason?: string): void;
  /** Ends the room: every client leaves with reason `disposed`. */
  dispose(): void;
  /** Everyone in the room (dropped members in their reconnection window included), in join order. */
  readonly members: readonly RoomMember[];
  /** How many members the room has. A method so that a clustered driver can count across nodes. */
  memberCount(): number;
  /** A member's smoothed round-trip time in ms; undefined before the first ping or for a non-member. */
  rttOf(client: RoomClient<U>): number | undefined;
  /** Key-value state whose changes reach every client as `state-change` events (JSON values). */
  readonly state: RoomState;
  /** Tags given at creation (`rooms.create(type, { tags })`, or joinOrCreate's filter). */
  readonly tags: Readonly<Record<string, string>>;
  /** Takes no new seats (members stay); the room is still listed, with `locked: true`. */
  lock(): Promise<void>;
  unlock(): Promise<void>;
  /** A private room is not listed nor matched by joinOrCreate; clients join it by id. */
  setPrivate(flag: boolean): Promise<void>;
}

export type AuthResult<U> = { ok: true; data: U } | { ok: false; code?: 'auth_refused'; message?: string };

type Awaitable<T> = T | Promise<T>;

/** Handlers for client messages, typed by the protocol's `client` section. */
export type MessageHandlers<P extends AnyProtocol, D, U> = {
  // Method-style (bivariant) signatures, so a definition with specific types fits AnyRoomDefinition.
  [K in keyof ClientMessages<P>]?: {
    handle(
      room: Room<P, D, U>,
      client: RoomClient<U>,
      message: ClientMessages<P>[K],
      meta: MessageMeta,
    ): void;
  }['handle'];
};

/** How a client message arrived. */
export interface MessageMeta {
  /** False when it came on the unreliable channel. */
  reliable: boolean;
}

export interface RoomDefinition<P extends AnyProtocol, D = undefined, U = unknown> {
  protocol: P;
  /** Fixed simulation rate in Hz; 0 or absent means no tick loop. */
  tickRate?: number;
  /** Most clients seated or reserved at once (default 16). */
  maxClients?: number;
  /** Default reconnection window when `onDrop` is not defined (default 20,000 ms; 0 = none). */
  reconnectionMs?: number;
  /** Dispose the room when its last client leaves and no seat is pending (default true). */
  autoDispose?: boolean;
  /** Builds `room.data` for each new room. */
  data?: () => D;
  /**
   * Send presence to clients: the member list on join, then `{ joins, leaves }` diffs (default
   * true). Set false for very large rooms to save the bandwidth; `room.members` still works.
   */
  presence?: boolean;
  /**
   * Peer-assisted room: members exchange the protocol's `peer` messages over direct datachannels, with
   * the server as relay (see docs/PEERS.md). Absent: off. Presence is always sent in such a room.
   */
  peers?: PeerRoomOptions;
  /** Limits of `room.state` (defaults: 1,024 keys, keys of 256 bytes, values of 16 KiB as JSON). */
  state?: Partial<RoomStateLimits>;
  /**
   * In a cluster, mirror `room.state` into the shared store (Redis), so that any node reads it with
   * `app.netloom.rooms.state(roomId)` and it is put back if the store restarts (default false: the
   * state lives only on the room's node). Costs one Redis write per batch of changes.
   */
  sharedState?: boolean;
  /**
   * Once disposed, the room's id is remembered (in a bounded, expiring set) and joins by that id
   * are refused with `match_ended` rather than `room_not_found` (default false; relayed matches set it).
   */
  tombstone?: boolean;
  onCreate?(room: Room<P, D, U>, options: unknown): Awaitable<void>;
  /** Runs when a seat is requested (before the client connects); refuse with `{ ok: false }`. */
  onAuth?(room: Room<P, D, U>, client: RoomClient<undefined>, joinData: unknown): Awaitable<AuthResult<U>>;
  onJoin?(room: Room<P, D, U>, client: RoomClient<U>): Awaitable<void>;
  messages?: MessageHandlers<P, D, U>;
  onTick?(room: Room<P, D, U>, dtMs: number): void;
  /** The client's link is gone; call `room.allowReconnection` to keep its seat. */
  onDrop?(room: Room<P, D, U>, client: RoomClient<U>): void;
  onReconnect?(room: Room<P, D, U>, client: RoomClient<U>): void;
  onLeave?(room: Room<P, D, U>, client: RoomClient<U>, reason: LeaveReason): Awaitable<void>;
  onDispose?(room: Room<P, D, U>): Awaitable<void>;
}

/** Declares a room type. Returns the definition unchanged, typed: message handlers get typed payloads. */
export function defineRoom<P extends AnyProtocol, D = undefined, U = unknown>(
  definition: RoomDefinition<P, D, U>,
): RoomDefinition<P, D, U> {
  return definition;
}
