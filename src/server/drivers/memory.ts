// memoryDriver(): the embedded in-process Driver; every operation is synchronous, hence atomic.
import type { Json } from '../identity.js';
import {
  type CreateResult,
  type Driver,
  type RedeemResult,
  type ReserveResult,
  type RoomFilter,
  type RoomRecord,
  type RoomTags,
  tagsMatch,
} from './driver.js';

interface MemoryRoom {
  id: string;
  type: string;
  nodeId: string;
  maxClients: number;
  createdAt: number;
  tags: RoomTags;
  data: Json;
  locked: boolean;
  private: boolean;
  /** seatId -> expiry of live reservations. */
  reservations: Map<string, number>;
  /** Seat ids redeemed and still seated. */
  seated: Set<string>;
  /** Seat ids ever redeemed (single use), kept while the room lives. */
  used: Set<string>;
}

/**
 * A Driver that keeps everything in this process: the default for a single-node game. Each method
 * body runs without awaiting, so no other call interleaves with it: the atomicity a Redis driver
 * gets from Lua scripts. Rooms iterate in creation order, so "oldest first" is insertion order.
 */
export function memoryDriver(): Driver {
  const rooms = new Map<string, MemoryRoom>();
  const perType = new Map<string, number>();

  const purge = (room: MemoryRoom, now: number) => {
    for (const [seat, expiresAt] of room.reservations) if (expiresAt <= now) room.reservations.delete(seat);
  };
  const view = (room: MemoryRoom, now: number): RoomRecord => {
    purge(room, now);
    return {
      id: room.id,
      type: room.type,
      nodeId: room.nodeId,
      maxClients: room.maxClients,
      clients: room.seated.size,
      reserved: room.reservations.size,
      locked: room.locked,
      private: room.private,
      tags: { ...room.tags },
      data: structuredClone(room.data),
      createdAt: room.createdAt,
    };
  };
  const reserve = (room: MemoryRoom, seatId: string, expiresAt: number, now: number): ReserveResult => {
    purge(room, now);
    if (room.locked) return 'locked';
    if (room.seated.size + room.reservations.size >= room.maxClients) return 'full';
    room.reservations.set(seatId, expiresAt);
    return 'ok';
  };

  return {
    async createRoom(record, maxRoomsOfType = Number.POSITIVE_INFINITY): Promise<CreateResult> {
      if (rooms.has(record.id)) return 'exists';
      const count = perType.get(record.type) ?? 0;
      if (count >= maxRoomsOfType) return 'limit';
      perType.set(record.type, count + 1);
      rooms.set(record.id, {
        id: record.id,
        type: record.type,
        nodeId: record.nodeId,
        maxClients: record.maxClients,
        createdAt: record.createdAt,
        tags: { ...record.tags },
        data: structuredClone(record.data ?? null),
        locked: record.locked ?? false,
        private: record.private ?? false,
        reservations: new Map(),
        seated: new Set(),
        used: new Set(),
      });
      return 'ok';
    },
    async removeRoom(roomId) {
      const room = rooms.get(roomId);
      if (!room) return;
      rooms.delete(roomId);
      const left = (perType.get(room.type) ?? 1) - 1;
      if (left > 0) perType.set(room.type, left);
      else perType.delete(room.type);
    },
    async getRoom(roomId, now) {
      const room = rooms.get(roomId);
      return room ? view(room, now) : null;
    },
    async listRooms(filter: RoomFilter, now) {
      const out: RoomRecord[] = [];
      for (const room of rooms.values()) {
        if (room.private) continue;
        if (filter.type !== undefined && room.type !== filter.type) continue;
        if (!tagsMatch(room.tags, filter.tags)) continue;
        out.push(view(room, now));
      }
      return out;
    },
    async countRooms(type) {
      return perType.get(type) ?? 0;
    },
    async reserveSeat(roomId, seatId, expiresAt, now) {
      const room = rooms.get(roomId);
      return room ? reserve(room, seatId, expiresAt, now) : 'not_found';
    },
    async reserveSeatInAny(filter, nodeId, seatId, expiresAt, now) {
      for (const room of rooms.values()) {
        if (room.type !== filter.type || room.private || room.locked) continue;
        if (nodeId !== null && room.nodeId !== nodeId) continue;
        if (!tagsMatch(room.tags, filter.tags)) continue;
        if (reserve(room, seatId, expiresAt, now) === 'ok') return room.id;
      }
      return null;
    },
    async redeemSeat(roomId, seatId, now): Promise<RedeemResult> {
      const room = rooms.get(roomId);
      if (!room) return 'not_found';
      if (room.used.has(seatId)) return 'used';
      const expiresAt = room.reservations.get(seatId);
      room.reservations.delete(seatId);
      if (expiresAt === undefined || expiresAt <= now) return 'expired';
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
      if (!room) return false;
      room.locked = locked;
      return true;
    },
    async setPrivate(roomId, isPrivate) {
      const room = rooms.get(roomId);
      if (!room) return false;
      room.private = isPrivate;
      return true;
    },
    async close() {
      rooms.clear();
      perType.clear();
    },
  };
}
