// Types of the control plane's API: seat reservations, create/join options, and who redeems seats.
import type { RoomTags } from '../drivers/driver.js';
import type { Identity, Json } from '../identity.js';

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
