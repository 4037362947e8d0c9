// The cluster matchmaker's Redis state: typed calls of its Lua scripts, bounded in time, and ticket (de)serialization.
import type { Redis } from 'ioredis';
import { NetloomError } from '../../codec/errors.js';
import type { Identity } from '../identity.js';
import { runScript, type ScriptName } from './cluster-lua.js';
import type { NormalizedTicket } from './ticket.js';
import type { TicketStatus } from './types.js';

/** A pending ticket as a pass reads it from Redis. */
export interface StoredTicket {
  id: string;
  owner: string;
  identity: Identity | undefined;
  ticket: NormalizedTicket;
  /** Arrival number (cluster-wide order). */
  seq: number;
  /** When it was filed, ms since the epoch on the Redis server's clock. */
  createdAt: number;
}

/** What the start of a pass found. */
export interface SweepResult {
  /** The Redis server's clock (ms since the epoch): the one clock every node's pass measures ages by. */
  now: number;
  /** Tickets this sweep ended with `ticket_timeout`. */
  timedOut: string[];
  /** Every pending ticket, oldest first, with its arrival number. */
  pending: Array<[id: string, seq: number]>;
}

export interface TickResult {
  leader: boolean;
  pending: number;
  claimed: number;
  matches: number;
}

type Encoded = {
  r: string;
  p: Array<[string, string | number]>;
  e: Array<[string, string]>;
  g: Array<[string, number | null, number | null]>;
  mn: number;
  mx: number;
  m: number;
  y: string[] | null;
  j?: unknown;
};

/** A validated ticket as JSON (Maps become pairs, infinite range bounds become null). */
export function encodeTicket(t: NormalizedTicket): string {
  const encoded: Encoded = {
    r: t.roomType,
    p: [...t.properties],
    e: t.equals,
    g: t.ranges.map((r) => [
      r.key,
      Number.isFinite(r.min) ? r.min : null,
      Number.isFinite(r.max) ? r.max : null,
    ]),
    mn: t.minPlayers,
    mx: t.maxPlayers,
    m: t.countMultiple,
    y: t.party ?? null,
  };
  if (t.joinData !== undefined) encoded.j = t.joinData;
  return JSON.stringify(encoded);
}

/** The inverse of encodeTicket; throws on anything it did not write. */
export function decodeTicket(json: string): NormalizedTicket {
  const e = JSON.parse(json) as Encoded;
  if (typeof e.r !== 'string' || !Array.isArray(e.p) || !Array.isArray(e.e) || !Array.isArray(e.g)) {
    throw new Error('not an encoded ticket');
  }
  const party = Array.isArray(e.y) ? e.y : undefined;
  return {
    roomType: e.r,
    properties: new Map(e.p),
    equals: e.e,
    ranges: e.g.map(([key, min, max]) => ({
      key,
      min: min ?? Number.NEGATIVE_INFINITY,
      max: max ?? Number.POSITIVE_INFINITY,
    })),
    minPlayers: e.mn,
    maxPlayers: e.mx,
    countMultiple: e.m,
    party,
    players: party?.length ?? 1,
    joinData: e.j,
  };
}

/** Matches per claim script call, and arguments per result-writing call (bounds one call's size). */
const CLAIM_CHUNK = 1_000;
const MAX_BATCH_ARGS = 6_000;

/** Results waiting for the next `deliver` script call. */
interface Batch {
  argv: Array<string | number>;
  done: Promise<Set<string>>;
}

/** Typed access to the matchmaker's keys; every call fails with `driver_unavailable` rather than hang. */
export class ClusterStore {
  readonly keyPrefix: string;
  private nextBatch: Batch | undefined;
  private writes: Promise<void> = Promise.resolve();

  constructor(
    private readonly redis: Redis,
    prefix: string,
    private readonly timeoutMs: number,
  ) {
    this.keyPrefix = `${prefix}mm:`;
  }

  /** Runs a Redis call, turning its failure or a reply later than the bound into `driver_unavailable`. */
  async bounded<T>(operation: string, call: () => Promise<T>): Promise<T> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new NetloomError('driver_unavailable', `matchmaker ${operation}: Redis did not answer`)),
        this.timeoutMs,
      );
      timer.unref?.();
    });
    try {
      return await Promise.race([call(), late]);
    } catch (err) {
      if (err instanceof NetloomError) throw err;
      const reason = err instanceof Error ? err.message : String(err);
      throw new NetloomError('driver_unavailable', `matchmaker ${operation} failed: ${reason}`, {
        cause: err,
      });
    } finally {
      clearTimeout(timer);
    }
  }

  private run(name: ScriptName, argv: Array<string | number>): Promise<unknown> {
    return this.bounded(name, () => runScript(this.redis, name, [this.keyPrefix, ...argv]));
  }

  async submit(
    id: string,
    owner: string,
    limits: { perUser: number; maxPending: number },
    ticket: string,
    identity: Identity | undefined,
  ): Promise<'ok' | 'user' | 'full'> {
    const json = identity ? JSON.stringify(identity) : '';
    const argv = [id, owner, limits.perUser, limits.maxPending, ticket, json];
    return (await this.run('submit', argv)) as 'ok' | 'user' | 'full';
  }

  /** The ticket's owner and status, or undefined when Redis has no such ticket. */
  async status(id: string): Promise<{ owner: string; status: TicketStatus } | undefined> {
    const key = `${this.keyPrefix}t:${id}`;
    const [st, owner, result] = await this.bounded('status', () => this.redis.hmget(key, 'st', 'o', 'r'));
    if (st === null || owner === null) return undefined;
    if (st !== 'd' || result === null) return { owner, status: { status: 'pending' } };
    try {
      return { owner, status: JSON.parse(result) as TicketStatus };
    } catch {
      throw new NetloomError('internal_error', 'the ticket result stored in Redis is unreadable');
    }
  }

  async cancel(
    id: string,
    owner: string | undefined,
    result: TicketStatus,
    retainMs: number,
  ): Promise<'missing' | 'done' | 'cancelled'> {
    const argv = [id, owner === undefined ? '0' : '1', owner ?? '', JSON.stringify(result), retainMs];
    return (await this.run('cancel', argv)) as 'missing' | 'done' | 'cancelled';
  }

  async tick(nodeId: string, leaseMs: number): Promise<TickResult> {
    const [leader, pending, claimed, matches] = (await this.run('tick', [nodeId, leaseMs])) as number[];
    return { leader: leader === 1, pending, claimed, matches };
  }

  async resign(nodeId: string): Promise<void> {
    await this.run('resign', [nodeId]);
  }

  async sweep(bounds: {
    timeoutMs: number;
    claimTimeoutMs: number;
    retainMs: number;
    timeout: TicketStatus;
  }): Promise<SweepResult> {
    const argv = [bounds.timeoutMs, bounds.claimTimeoutMs, JSON.stringify(bounds.timeout), bounds.retainMs];
    const [now, timedOut, flat] = (await this.run('sweep', argv)) as [number, string[], string[]];
    const pending: Array<[string, number]> = [];
    for (let i = 0; i + 1 < flat.length; i += 2) pending.push([flat[i], Number(flat[i + 1])]);
    return { now, timedOut, pending };
  }

  /** The pending tickets of `ids` (with their arrival numbers); gone or unreadable ones are left out. */
  async fetch(
    ids: Array<[string, number]>,
    onBad: (id: string, err: unknown) => void,
  ): Promise<StoredTicket[]> {
    const rows = (await this.run(
      'fetch',
      ids.map(([id]) => id),
    )) as Array<[string | null, string | null, string | null, string | null] | null>;
    const out: StoredTicket[] = [];
    rows.forEach((row, i) => {
      const [id, seq] = ids[i];
      if (!row || row[0] === null || row[3] === null) return;
      try {
        const identity = row[1] ? (JSON.parse(row[1]) as Identity) : undefined;
        out.push({
          id,
          seq,
          owner: row[3],
          identity,
          ticket: decodeTicket(row[0]),
          createdAt: Number(row[2]),
        });
      } catch (err) {
        onBad(id, err);
      }
    });
    return out;
  }

  /** Claims each match whose tickets are all still pending; true per match claimed. */
  async claim(token: string, matches: string[][]): Promise<boolean[]> {
    const out: boolean[] = [];
    // Each match is claimed atomically on its own, so a large pass may take several script calls.
    for (let i = 0; i < matches.length; i += CLAIM_CHUNK) {
      const argv: Array<string | number> = [token];
      for (const ids of matches.slice(i, i + CLAIM_CHUNK)) argv.push(ids.length, ...ids);
      for (const flag of (await this.run('claim', argv)) as number[]) out.push(flag === 1);
    }
    return out;
  }

  /**
   * Writes the results of claimed tickets still held under their token. Calls made while a write runs
   * share the next one (one script call), whose finished ids go to `announce` once; resolves with them.
   */
  deliver(
    results: Array<{ id: string; token: string; status: TicketStatus }>,
    retainMs: number,
    announce: (ids: string[]) => Promise<void>,
  ): Promise<Set<string>> {
    let batch = this.nextBatch;
    if (!batch || batch.argv.length > MAX_BATCH_ARGS) {
      let settle!: { resolve(ids: Set<string>): void; reject(err: unknown): void };
      const done = new Promise<Set<string>>((resolve, reject) => {
        settle = { resolve, reject };
      });
      const created: Batch = { argv: [retainMs], done };
      batch = created;
      this.nextBatch = created;
      this.writes = this.writes.then(async () => {
        if (this.nextBatch === created) this.nextBatch = undefined;
        try {
          const finished = (await this.run('deliver', created.argv)) as string[];
          await announce(finished);
          settle.resolve(new Set(finished));
        } catch (err) {
          settle.reject(err);
        }
      });
    }
    for (const r of results) batch.argv.push(r.id, r.token, JSON.stringify(r.status));
    return batch.done;
  }
}
