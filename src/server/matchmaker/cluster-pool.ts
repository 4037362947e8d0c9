// A node's mirror of the cluster's pending tickets: per-room-type pools kept in line with Redis, loading only what is new.
import type { StoredTicket } from './cluster-store.js';
import { findMatches, type PassOptions, type PoolEntry, TicketPool } from './match.js';

const FETCH_CHUNK = 2_000;

/** Loads the given pending tickets from Redis (unreadable ones are reported and left out). */
export type FetchTickets = (
  ids: Array<[string, number]>,
  onBad: (id: string) => void,
) => Promise<StoredTicket[]>;

/**
 * The pending tickets as the passes of this node see them. Each pass hands it Redis' pending ids; it drops
 * the tickets that left (matched elsewhere, cancelled, timed out) and fetches only the ones it lacks.
 */
export class PoolMirror {
  private readonly cache = new Map<string, StoredTicket>();
  private readonly pools = new Map<string, { pool: TicketPool; lastSeq: number }>();
  /** Pending ids whose stored form could not be read: not fetched again while they stay pending. */
  private readonly unreadable = new Set<string>();

  get size(): number {
    return this.cache.size;
  }

  /** Brings the mirror in line with `pending` (every pending id with its arrival number, oldest first). */
  async sync(pending: Array<[string, number]>, fetch: FetchTickets): Promise<void> {
    const live = new Set<string>();
    const fresh: Array<[string, number]> = [];
    for (const item of pending) {
      live.add(item[0]);
      if (!this.cache.has(item[0]) && !this.unreadable.has(item[0])) fresh.push(item);
    }
    for (const id of this.cache.keys()) if (!live.has(id)) this.take(id);
    for (const id of this.unreadable) if (!live.has(id)) this.unreadable.delete(id);
    const stale = new Set<string>();
    for (let i = 0; i < fresh.length; i += FETCH_CHUNK) {
      const loaded = await fetch(fresh.slice(i, i + FETCH_CHUNK), (id) => this.unreadable.add(id));
      for (const stored of loaded) {
        const type = stored.ticket.roomType;
        let slot = this.pools.get(type);
        if (!slot) {
          slot = { pool: new TicketPool(), lastSeq: 0 };
          this.pools.set(type, slot);
        }
        // A ticket put back after a dead leader's claim is older than the pool's newest: reorder that pool.
        if (stored.seq < slot.lastSeq) stale.add(type);
        slot.lastSeq = Math.max(slot.lastSeq, stored.seq);
        this.cache.set(stored.id, stored);
        slot.pool.add(entryOf(stored));
      }
    }
    for (const type of stale) {
      const slot = this.pools.get(type)!;
      const entries = [...slot.pool.entries.values()].sort((a, b) => a.seq - b.seq);
      slot.pool = new TicketPool();
      for (const entry of entries) slot.pool.add(entry);
    }
  }

  /** Runs the matching algorithm over every pool at `now` (the Redis clock); changes nothing. */
  matches(now: number, options: PassOptions): PoolEntry[][] {
    const out: PoolEntry[][] = [];
    for (const { pool } of this.pools.values()) {
      if (pool.size > 0) out.push(...findMatches(pool, now, options));
    }
    return out;
  }

  /** Removes a ticket (claimed, or gone from Redis) and returns what was known of it. */
  take(id: string): StoredTicket | undefined {
    const stored = this.cache.get(id);
    if (!stored) return undefined;
    this.cache.delete(id);
    const slot = this.pools.get(stored.ticket.roomType);
    slot?.pool.remove(id);
    if (slot?.pool.size === 0) this.pools.delete(stored.ticket.roomType);
    return stored;
  }

  clear(): void {
    this.cache.clear();
    this.pools.clear();
    this.unreadable.clear();
  }
}

function entryOf(stored: StoredTicket): PoolEntry {
  return {
    id: stored.id,
    seq: stored.seq,
    createdAt: stored.createdAt,
    ticket: stored.ticket,
    users: stored.ticket.party ?? [stored.owner],
  };
}
