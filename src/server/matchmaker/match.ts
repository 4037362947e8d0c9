// The matching algorithm: per-room-type ticket pools indexed by property value, and one greedy, bounded pass.
import type { NormalizedTicket } from './ticket.js';

/** How a query's numeric ranges widen while its ticket waits: both bounds move out by `perSecond` × age. */
export interface WideningRule {
  /** Units per second of waiting each bound moves out by. */
  perSecond: number;
  /** Most either bound moves out by (default: no cap). */
  max?: number;
}

/** Widening by property name; the key `'*'` applies to every range without a rule of its own. */
export type Widening = Record<string, WideningRule>;

/** A ticket waiting in a pool. */
export interface PoolEntry {
  id: string;
  /** Order of arrival; older tickets have smaller numbers. */
  seq: number;
  /** Clock time the ticket arrived (ms). */
  createdAt: number;
  ticket: NormalizedTicket;
  /** Users this ticket seats (party members, or its owner); a match never seats one user twice. */
  users: string[];
}

export interface PassOptions {
  widening: Widening;
  /** Candidates one ticket looks at per pass when it builds a match (bounds the cost of a pass). */
  maxScan: number;
  /** A match with room for more players forms only once its oldest ticket has waited this long (ms). */
  fillWaitMs: number;
}

/** The waiting tickets of one room type, in arrival order, indexed by string property values. */
export class TicketPool {
  readonly entries = new Map<string, PoolEntry>();
  /** property → string value → tickets whose properties have that value (arrival order). */
  private readonly byValue = new Map<string, Map<string, Set<PoolEntry>>>();

  get size(): number {
    return this.entries.size;
  }

  add(entry: PoolEntry): void {
    this.entries.set(entry.id, entry);
    for (const [key, value] of entry.ticket.properties) {
      if (typeof value !== 'string') continue;
      let values = this.byValue.get(key);
      if (!values) {
        values = new Map();
        this.byValue.set(key, values);
      }
      let bucket = values.get(value);
      if (!bucket) {
        bucket = new Set();
        values.set(value, bucket);
      }
      bucket.add(entry);
    }
  }

  remove(id: string): PoolEntry | undefined {
    const entry = this.entries.get(id);
    if (!entry) return undefined;
    this.entries.delete(id);
    for (const [key, value] of entry.ticket.properties) {
      if (typeof value !== 'string') continue;
      const values = this.byValue.get(key);
      const bucket = values?.get(value);
      if (!values || !bucket) continue;
      bucket.delete(entry);
      if (bucket.size === 0) values.delete(value);
      if (values.size === 0) this.byValue.delete(key);
    }
    return entry;
  }

  /** Tickets whose `key` property equals `value`, or undefined when none has. */
  bucket(key: string, value: string): Set<PoolEntry> | undefined {
    return this.byValue.get(key)?.get(value);
  }

  /** Oldest ticket, if any. */
  oldest(): PoolEntry | undefined {
    for (const entry of this.entries.values()) return entry;
    return undefined;
  }
}

/** How far a range of `key` has widened for a query that has waited `ageMs`. */
export function widenBy(widening: Widening, key: string, ageMs: number): number {
  const rule = Object.hasOwn(widening, key) ? widening[key] : widening['*'];
  if (!rule || ageMs <= 0) return 0;
  return Math.min(rule.perSecond * (ageMs / 1000), rule.max ?? Number.POSITIVE_INFINITY);
}

/** True when `properties` satisfy the query of `asker` at time `now` (its ranges widened by its age). */
export function satisfies(
  asker: PoolEntry,
  properties: Map<string, string | number>,
  now: number,
  widening: Widening,
): boolean {
  for (const [key, value] of asker.ticket.equals) if (properties.get(key) !== value) return false;
  for (const range of asker.ticket.ranges) {
    const value = properties.get(range.key);
    if (typeof value !== 'number') return false;
    const widen = widenBy(widening, range.key, now - asker.createdAt);
    if (value < range.min - widen || value > range.max + widen) return false;
  }
  return true;
}

/** Two tickets fit together when each one's properties satisfy the other's query. */
export function compatible(a: PoolEntry, b: PoolEntry, now: number, widening: Widening): boolean {
  return satisfies(a, b.ticket.properties, now, widening) && satisfies(b, a.ticket.properties, now, widening);
}

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

/** Position of the first entry younger than `seq` in an arrival-ordered list. */
function after(list: PoolEntry[], seq: number): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (list[mid].seq <= seq) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

interface Bounds {
  total: number;
  lo: number;
  hi: number;
  multiple: number;
}

function fits(b: Bounds): boolean {
  return b.total >= b.lo && b.total <= b.hi && b.total % b.multiple === 0;
}

/**
 * One matching pass over a pool. Oldest tickets first: each unmatched ticket (the anchor) takes younger
 * compatible tickets in arrival order while the players fit under every member's maxPlayers, and keeps
 * the largest prefix whose player count lies in every member's [minPlayers, maxPlayers] and is a multiple
 * of every member's countMultiple. An anchor with string-equality conditions looks only at the tickets
 * indexed under the rarest of those values; every anchor looks at no more than `maxScan` candidates.
 * Returns the matches, each oldest first; it does not change the pool.
 */
export function findMatches(pool: TicketPool, now: number, options: PassOptions): PoolEntry[][] {
  const { widening, maxScan, fillWaitMs } = options;
  const all = [...pool.entries.values()];
  const snapshots = new Map<Set<PoolEntry>, PoolEntry[]>();
  const taken = new Set<PoolEntry>();
  const matches: PoolEntry[][] = [];

  const candidatesOf = (anchor: PoolEntry, index: number): { list: PoolEntry[]; start: number } | null => {
    let smallest: Set<PoolEntry> | undefined;
    for (const [key, value] of anchor.ticket.equals) {
      const bucket = pool.bucket(key, value);
      if (!bucket) return null; // nobody has that value: no match possible
      if (!smallest || bucket.size < smallest.size) smallest = bucket;
    }
    if (!smallest) return { list: all, start: index + 1 };
    let list = snapshots.get(smallest);
    if (!list) {
      list = [...smallest];
      snapshots.set(smallest, list);
    }
    return { list, start: after(list, anchor.seq) };
  };

  for (let i = 0; i < all.length; i++) {
    const anchor = all[i];
    if (taken.has(anchor)) continue;
    const t = anchor.ticket;
    const group = [anchor];
    const users = new Set(anchor.users);
    const bounds: Bounds = {
      total: t.players,
      lo: t.minPlayers,
      hi: t.maxPlayers,
      multiple: t.countMultiple,
    };
    let best = fits(bounds) ? 1 : 0;
    let bestBounds = { ...bounds };
    const source = bounds.total < bounds.hi ? candidatesOf(anchor, i) : null;
    if (source) {
      const { list, start } = source;
      const end = Math.min(list.length, start + maxScan);
      for (let j = start; j < end && bounds.total < bounds.hi; j++) {
        const candidate = list[j];
        if (taken.has(candidate)) continue;
        const c = candidate.ticket;
        const total = bounds.total + c.players;
        const hi = Math.min(bounds.hi, c.maxPlayers);
        const lo = Math.max(bounds.lo, c.minPlayers);
        if (total > hi || lo > hi) continue; // over someone's maximum, or no count would suit everyone
        if (candidate.users.some((u) => users.has(u))) continue;
        if (!group.every((member) => compatible(member, candidate, now, widening))) continue;
        group.push(candidate);
        for (const u of candidate.users) users.add(u);
        bounds.total = total;
        bounds.hi = hi;
        bounds.lo = lo;
        bounds.multiple = (bounds.multiple / gcd(bounds.multiple, c.countMultiple)) * c.countMultiple;
        if (fits(bounds)) {
          best = group.length;
          bestBounds = { ...bounds };
        }
      }
    }
    if (best === 0) continue;
    if (bestBounds.total < bestBounds.hi && now - anchor.createdAt < fillWaitMs) continue;
    const match = group.slice(0, best);
    for (const entry of match) taken.add(entry);
    matches.push(match);
  }
  return matches;
}
