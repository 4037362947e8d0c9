// memoryDriver(): the embedded in-process Driver; every operation is synchronous, hence atomic.
import type { Driver, RedeemResult, ReserveResult, RoomRecord } from './driver.js';

interface MemoryRoom {
  record: Omit<RoomRecord, 'seated' | 'reserved'>;
  /** seatId -> expiry of live reservations. */
  reservations: Map<string, number>;
  /** Seat ids redeemed and still seated. */
  seated: Set<string>;
  /** Seat ids ever redeemed (single use), kept while the room lives. */
  used: Set<string>;
}

/** A Driver that keeps everything in this process: the default for a single-node game. */
export function memoryDriver(): Driver {
  const rooms = new Map<string, MemoryRoom>();

  const purge = (room: MemoryRoom, now: number) => {
    for (const [seat, expiresAt] of room.reservations) if (expiresAt <= now) room.reservations.delete(seat);
  };
  const view = (room: MemoryRoom, now: number): RoomRecord => {
    purge(room, now);
    return { ...room.record, seated: room.seated.size, reserved: room.reservations.size };
  };
  const reserve = (room: MemoryRoom, seatId: string, expiresAt: number, now: number): ReserveResult => {
    purge(room, now);
    if (room.record.locked) return 'locked';
    if (room.seated.size + room.reservations.size >= room.record.maxClients) return 'full';
    room.reservations.set(seatId, expiresAt);
    return 'ok';
  };

  return {
    async createRoom(record) {
      rooms.set(record.id, {
        record: { ...record, locked: false },
        reservations: new Map(),
        seated: new Set(),
        used: new Set(),
      });
    },
    async removeRoom(roomId) {
      rooms.delete(roomId);
    },
    async getRoom(roomId, now) {
      const room = rooms.get(roomId);
      return room ? view(room, now) : null;
    },
    async listRooms(type, now) {
      const out: RoomRecord[] = [];
      for (const room of rooms.values())
        if (type === undefined || room.record.type === type) out.push(view(room, now));
      return out;
    },
    async reserveSeat(roomId, seatId, expiresAt, now) {
      const room = rooms.get(roomId);
      return room ? reserve(room, seatId, expiresAt, now) : 'not_found';
    },
    async reserveSeatInAny(type, nodeId, seatId, expiresAt, now) {
      for (const room of rooms.values()) {
        if (room.record.type !== type || room.record.nodeId !== nodeId) continue;
        if (reserve(room, seatId, expiresAt, now) === 'ok') return room.record.id;
      }
      return null;
    },
    async redeemSeat(roomId, seatId, now): Promise<RedeemResult> {
      const room = rooms.get(roomId);
      if (!room) return 'not_found';
      if (room.used.has(seatId)) return 'used';
      const expiresAt = room.reservations.get(seatId);
      if (expiresAt === undefined || expiresAt <= now) {
        room.reservations.delete(seatId);
        return 'expired';
      }
      room.reservations.delete(seatId);
      room.used.add(seatId);
      room.seated.add(seatId);
      return 'ok';
    },
    async releaseSeat(roomId, seatId) {
      const room = rooms.get(roomId);
      room?.seated.delete(seatId);
      room?.reservations.delete(seatId);
    },
    async setLocked(roomId, locked) {
      const room = rooms.get(roomId);
      if (room) room.record.locked = locked;
    },
    async close() {
      rooms.clear();
    },
  };
}
