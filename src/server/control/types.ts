// Types of the control plane's API: seat reservations, create/join options, and who redeems seats.
import type { StateChange } from '../../codec/frames.js';
import type { Clock } from '../../shared/clock.js';
import type { Driver, RoomTags } from '../drivers/driver.js';
import type { Identity, Json } from '../identity.js';
import type { Logger, Metrics } from '../metrics.js';
import type { AnyProtocol, RoomDefinition } from '../rooms/define.js';
import type { RoomRunner } from '../rooms/host.js';
import type { EndedRoomsOptions } from '../rooms/tombstones.js';
import type { SeatSigner } from '../seats.js';
import type { RoomMetadataLimits } from './room-meta.js';

/** What a client needs to take a reserved seat. */
export interface SeatReservation {
  roomId: string;
  roomType: string;
  /** The signed, single-use seat token to present in HELLO or JOIN. */
  seat: string;
  /** Expiry of the token, ms since the epoch. */
  expiresAt: number;
}

/** `rooms.create(type, ...)`: what the new room gets. */
export interface CreateRoomOptions {
  /** Passed to the room's onCreate. */
  options?: unknown;
  /** String tags: lists and joinOrCreate filter on them. */
  tags?: RoomTags;
  /** JSON metadata shown in lists (map, host name, ...). */
  data?: Json;
  /** Not listed nor matched by joinOrCreate; joined by id (default false). */
  private?: boolean;
}

/** `rooms.joinOrCreate(type, ...)`. */
export interface JoinOrCreateOptions {
  /** Reaches the room's onAuth. */
  joinData?: unknown;
  /** Only rooms carrying these tags match; a room created here gets them. */
  tags?: RoomTags;
  /** Who will take the seat (reaches onAuth as `client.auth`, travels in the seat token). */
  identity?: Identity;
  /** Seat lifetime (default the server's `seatTtlMs`). */
  ttlMs?: number;
}

/** A joinOrCreate's options once validated. */
export interface CheckedJoin {
  tags: RoomTags;
  identity: Identity | undefined;
  ttlMs: number;
}

/** `seats.reserve(roomId, ...)`. */
export interface ReserveOptions {
  joinData?: unknown;
  ttlMs?: number;
  identity?: Identity;
}

/** Whoever redeems seats over time (a session): its identity is fixed by the first seat that carries one. */
export interface SeatHolder {
  identity: Identity | undefined;
}

export interface RedeemOptions {
  /** When given, a seat for any other room is refused with `seat_wrong_room`. */
  expectedRoomId?: string;
  /** The session redeeming: a seat for another user is refused with `forbidden`; the first identity sticks. */
  holder?: SeatHolder;
}

export interface ControlPlaneDeps {
  rooms: Record<string, RoomDefinition<AnyProtocol, unknown, unknown>>;
  driver: Driver;
  runner: RoomRunner;
  signer: SeatSigner;
  nodeId: string;
  clock: Clock;
  /** Wall clock for token expiry (ms since the epoch); injectable for tests. */
  now: () => number;
  seatTtlMs: number;
  /** Most rooms of one type (default 1,000): past it, creating one fails with `room_limit`. */
  maxRoomsPerType?: number;
  roomMetadata?: Partial<RoomMetadataLimits>;
  /** Ids of ended rooms with `tombstone: true` (relayed matches), refused with `match_ended`. */
  endedRooms?: Partial<EndedRoomsOptions>;
  log: Logger;
  metrics: Metrics;
}

/** Where a cluster takes what outlives a node's memory: ended matches and shared room state. */
export interface SharedRooms {
  ended(roomId: string): void;
  state(roomId: string, changes: StateChange[]): void;
}
