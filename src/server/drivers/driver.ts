// The Driver interface: shared control-plane state (room registry and seat accounting) behind one seam.

/** A room as the control plane sees it. */
export interface RoomRecord {
  id: string;
  type: string;
  nodeId: string;
  maxClients: number;
  /** Seated clients plus unexpired reservations never exceed maxClients. */
  seated: number;
  reserved: number;
  locked: boolean;
  createdAt: number;
}

export type ReserveResult = 'ok' | 'full' | 'locked' | 'not_found';
export type RedeemResult = 'ok' | 'used' | 'expired' | 'not_found';

/**
 * Shared state for the control plane. Every operation is a single step that a Redis driver can
 * make atomic (a Lua script or MULTI): none asks the caller to read, modify and write back.
 */
export interface Driver {
  /** Registers a new room. */
  createRoom(room: Omit<RoomRecord, 'seated' | 'reserved' | 'locked'>): Promise<void>;
  /** Removes a room and its reservations. */
  removeRoom(roomId: string): Promise<void>;
  getRoom(roomId: string, now: number): Promise<RoomRecord | null>;
  /** Rooms of a type (or all), expired reservations excluded from counts. */
  listRooms(type: string | undefined, now: number): Promise<RoomRecord[]>;
  /**
   * Reserves a seat in a room if seated + live reservations < maxClients and it is not locked.
   * The reservation lapses at `expiresAt` unless redeemed.
   */
  reserveSeat(roomId: string, seatId: string, expiresAt: number, now: number): Promise<ReserveResult>;
  /**
   * Atomically picks the oldest unlocked room of `type` on `nodeId` with a free seat and reserves
   * one there; returns its id, or null when none has room (then the caller creates one).
   */
  reserveSeatInAny(
    type: string,
    nodeId: string,
    seatId: string,
    expiresAt: number,
    now: number,
  ): Promise<string | null>;
  /** Turns a live reservation into a seated client; each seat id redeems once. */
  redeemSeat(roomId: string, seatId: string, now: number): Promise<RedeemResult>;
  /** Frees a seat: a seated client left, or a reservation was refused by onAuth. */
  releaseSeat(roomId: string, seatId: string): Promise<void>;
  setLocked(roomId: string, locked: boolean): Promise<void>;
  /** Releases resources (connections, timers). */
  close(): Promise<void>;
}
