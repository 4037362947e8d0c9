// EndedRooms: a bounded, expiring set of ids of rooms that ended for good (relayed matches), so joins get `match_ended`.
import type { Clock } from '../../shared/clock.js';

export interface EndedRoomsOptions {
  /** Most ids remembered; the oldest is forgotten first (default 10,000). */
  max: number;
  /** How long an id is remembered (default 3,600,000 ms: one hour). */
  ttlMs: number;
}

export const DEFAULT_ENDED_ROOMS: Readonly<EndedRoomsOptions> = Object.freeze({
  max: 10_000,
  ttlMs: 3_600_000,
});

/**
 * Ids of ended rooms whose definition asks for a tombstone. Room ids are random and never reused,
 * so a forgotten id still cannot be joined: it then answers `room_not_found` instead of
 * `match_ended`. On one node; a clustered driver may keep tombstones later.
 */
export class EndedRooms {
  /** id -> expiry; insertion order is expiry order, since every entry lives `ttlMs`. */
  private readonly ids = new Map<string, number>();
  private readonly options: EndedRoomsOptions;

  constructor(
    private readonly clock: Clock,
    options: Partial<EndedRoomsOptions> = {},
  ) {
    this.options = { ...DEFAULT_ENDED_ROOMS, ...options };
  }

  get size(): number {
    return this.ids.size;
  }

  add(id: string): void {
    if (this.options.max <= 0) return;
    this.ids.delete(id);
    this.ids.set(id, this.clock.now() + this.options.ttlMs);
    this.prune();
  }

  has(id: string): boolean {
    const at = this.ids.get(id);
    if (at === undefined) return false;
    if (at <= this.clock.now()) {
      this.prune();
      return false;
    }
    return true;
  }

  private prune(): void {
    const now = this.clock.now();
    for (const [id, at] of this.ids) {
      if (at > now && this.ids.size <= this.options.max) break;
      this.ids.delete(id);
    }
  }
}
