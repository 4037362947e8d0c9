// The Driver interface: shared control-plane state (room registry and seat accounting) behind one seam.
import type { ClusterBackend } from '../cluster/types.js';
import type { Json } from '../identity.js';

/** String tags on a room (`{ mode: 'duel', region: 'eu' }`): what lists and joinOrCreate filter on. */
export type RoomTags = Record<string, string>;

/** A room as the control plane sees it. */
export interface RoomRecord {
  id: string;
  type: string;
  nodeId: string;
  maxClients: number;
  /** Clients seated now (redeemed seats, dropped clients inside their reconnection window included). */
  clients: number;
  /** Unexpired, unredeemed reservations. `clients + reserved` never exceeds `maxClients`. */
  reserved: number;
  /** A locked room takes no new seats (members stay); it is still listed, with `locked: true`. */
  locked: boolean;
  /** A private room is never listed nor picked by joinOrCreate; it is joined by id. */
  private: boolean;
  tags: RoomTags;
  /** JSON metadata for lobbies (map name, host's name, ...); null when none. */
  data: Json;
  createdAt: number;
}

/** What registering a room needs; counts start at zero. */
export interface NewRoom {
  id: string;
  type: string;
  nodeId: string;
  maxClients: number;
  createdAt: number;
  tags?: RoomTags;
  data?: Json;
  private?: boolean;
  locked?: boolean;
}

/** Which rooms a list or a joinOrCreate considers: all given conditions hold (tags: each key equals). */
export interface RoomFilter {
  type?: string;
  tags?: RoomTags;
}

export type CreateResult = 'ok' | 'exists' | 'limit';
export type ReserveResult = 'ok' | 'full' | 'locked' | 'not_found';
export type RedeemResult = 'ok' | 'used' | 'expired' | 'not_found';

/**
 * Shared state for the control plane. Every operation is ONE step that a Redis driver can make
 * atomic (one Lua script, or MULTI/EXEC over keys it owns): none asks the caller to read, modify
 * and write back across calls. Counts a method returns already exclude lapsed reservations.
 */
export interface Driver {
  /**
   * Registers a new room unless `maxRoomsOfType` rooms of its type already exist ('limit') or the
   * id is taken ('exists'). Count check and insert are one atomic step.
   */
  createRoom(room: NewRoom, maxRoomsOfType?: number): Promise<CreateResult>;
  /** Removes a room and its reservations (idempotent). */
  removeRoom(roomId: string): Promise<void>;
  /** One room by id, private or not; null when unknown. */
  getRoom(roomId: string, now: number): Promise<RoomRecord | null>;
  /** Public rooms matching `filter`, oldest first; private rooms are never listed, locked ones are. */
  listRooms(filter: RoomFilter, now: number): Promise<RoomRecord[]>;
  /** Rooms of `type` registered, private and locked included (for the rooms-per-type limit and metrics). */
  countRooms(type: string): Promise<number>;
  /**
   * Reserves a seat in a room if it is not locked and clients + live reservations < maxClients
   * (one atomic check-and-insert). Private rooms take seats here (join by id). The reservation
   * lapses at `expiresAt` unless redeemed.
   */
  reserveSeat(roomId: string, seatId: string, expiresAt: number, now: number): Promise<ReserveResult>;
  /**
   * Atomically picks the oldest public, unlocked room of `filter.type` on `nodeId` (on any node when
   * null) whose tags include `filter.tags` and that has a free seat, and reserves one there; returns
   * its id, or null when none has room (then the caller creates one).
   */
  reserveSeatInAny(
    filter: RoomFilter & { type: string },
    nodeId: string | null,
    seatId: string,
    expiresAt: number,
    now: number,
  ): Promise<string | null>;
  /** Turns a live reservation into a seated client; each seat id redeems once ('used' after). */
  redeemSeat(roomId: string, seatId: string, now: number): Promise<RedeemResult>;
  /** Frees a seat: a seated client left, or a reservation was refused by onAuth (idempotent). */
  releaseSeat(roomId: string, seatId: string): Promise<void>;
  /** Sets the locked flag; false when the room is unknown. */
  setLocked(roomId: string, locked: boolean): Promise<boolean>;
  /** Sets the private flag; false when the room is unknown. */
  setPrivate(roomId: string, isPrivate: boolean): Promise<boolean>;
  /** Releases resources (connections, timers). */
  close(): Promise<void>;
  /**
   * Present when the driver spans processes (`redisDriver`): the node registry and message bus that
   * let several netloom nodes serve one game. Absent: a single-node game.
   */
  readonly cluster?: ClusterBackend;
}

/** True when `tags` has every key of `wanted` with the same value. */
export function tagsMatch(tags: RoomTags, wanted: RoomTags | undefined): boolean {
  if (!wanted) return true;
  for (const key of Object.keys(wanted))
    if (!Object.hasOwn(tags, key) || tags[key] !== wanted[key]) return false;
  return true;
}
