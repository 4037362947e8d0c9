// The matchmaker service: tickets' lifecycle (submit, wait, cancel, time out), the pass timer, and match delivery.
import { type ErrorCode, NetloomError, toNetloomError } from '../../codec/errors.js';
import type { TimerHandle } from '../../shared/clock.js';
import type { MatchTicketRequest } from '../../shared/matchmaking.js';
import type { Identity } from '../identity.js';
import type { JoinTicket } from '../options.js';
import { randomId } from '../seats.js';
import { findMatches, type PoolEntry, TicketPool, type Widening } from './match.js';
import { type TicketLimits, ticketLimits, validateTicket } from './ticket.js';
import type {
  MatchInfo,
  MatchmakerApi,
  MatchmakerDeps,
  MatchmakerOptions,
  MatchmakerStats,
  SubmitOptions,
  TicketAccess,
  TicketStatus,
  WaitOptions,
} from './types.js';

interface TicketRecord {
  id: string;
  owner: string;
  identity: Identity | undefined;
  entry: PoolEntry;
  state: 'pending' | 'matching' | 'done';
  result: TicketStatus;
  doneAt: number;
  waiters: Set<() => void>;
}

const OWNER_PATTERN = /^[A-Za-z0-9_-]{8,64}$/;
const PENDING: TicketStatus = { status: 'pending' };

function nonNegative(value: number | undefined, fallback: number, name: string): number {
  const v = value ?? fallback;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
    throw new NetloomError('request_invalid', `matchmaker option ${name} must be a finite number >= 0`);
  }
  return v;
}

/** Validates the widening option at start-up. */
function checkWidening(widening: Widening): Widening {
  for (const [key, rule] of Object.entries(widening)) {
    const ok =
      typeof rule === 'object' &&
      rule !== null &&
      Number.isFinite(rule.perSecond) &&
      rule.perSecond >= 0 &&
      (rule.max === undefined || (Number.isFinite(rule.max) && rule.max >= 0));
    if (!ok)
      throw new NetloomError(
        'request_invalid',
        `matchmaker widening '${key}' needs perSecond >= 0, max >= 0`,
      );
  }
  return widening;
}

/** Groups compatible tickets on a timer of an injectable clock, creates their room and seats its players. */
export class Matchmaker implements MatchmakerApi {
  private readonly tickets = new Map<string, TicketRecord>();
  /** Finished tickets, oldest first, kept `retainMs` for late readers. */
  private readonly retained = new Map<string, TicketRecord>();
  private readonly pools = new Map<string, TicketPool>();
  private readonly perOwner = new Map<string, number>();
  private readonly inflight = new Set<Promise<void>>();
  private timer: TimerHandle | undefined;
  private seq = 0;
  private pendingCount = 0;
  private matchingCount = 0;
  private matchCount = 0;
  private closed = false;

  private readonly intervalMs: number;
  private readonly timeoutMs: number;
  private readonly perUser: number;
  private readonly maxPending: number;
  private readonly longPollMs: number;
  private readonly retainMs: number;
  private readonly limits: TicketLimits;
  private readonly pass: { widening: Widening; maxScan: number; fillWaitMs: number };

  constructor(
    private readonly deps: MatchmakerDeps,
    private readonly options: MatchmakerOptions = {},
  ) {
    this.intervalMs = Math.max(1, nonNegative(options.intervalMs, 500, 'intervalMs'));
    this.timeoutMs = nonNegative(options.ticketTimeoutMs, 60_000, 'ticketTimeoutMs');
    this.perUser = nonNegative(options.ticketsPerUser, 3, 'ticketsPerUser');
    this.maxPending = nonNegative(options.maxPendingTickets, 100_000, 'maxPendingTickets');
    this.longPollMs = nonNegative(options.longPollMs, 20_000, 'longPollMs');
    this.retainMs = nonNegative(options.retainMs, 30_000, 'retainMs');
    this.limits = ticketLimits(options.limits);
    deps.metrics.describe('matchmaker_tickets_submitted', { help: 'Matchmaking tickets filed.' });
    deps.metrics.describe('matchmaker_matches', { help: 'Matches the matchmaker formed.' });
    deps.metrics.describe('matchmaker_tickets', {
      help: 'Matchmaking tickets finished, by outcome (matched, or the error code they ended with).',
      label: 'outcome',
    });
    this.pass = {
      widening: checkWidening({ ...options.widening }),
      maxScan: Math.max(1, nonNegative(options.maxScan, 256, 'maxScan')),
      fillWaitMs: nonNegative(options.fillWaitMs, 0, 'fillWaitMs'),
    };
  }

  async submit(
    request: MatchTicketRequest,
    options: SubmitOptions = {},
  ): Promise<{ ticketId: string; owner: string }> {
    if (this.closed) throw new NetloomError('server_shutdown', 'the matchmaker is closed');
    const { identity } = options;
    const ticket = validateTicket(request, {
      limits: this.limits,
      capacity: this.deps.capacity,
      userId: identity?.userId,
    });
    let owner: string;
    if (identity) owner = identity.userId;
    else if (options.owner === undefined) owner = randomId();
    else if (typeof options.owner === 'string' && OWNER_PATTERN.test(options.owner)) owner = options.owner;
    else throw new NetloomError('ticket_invalid', 'owner ids are 8 to 64 characters of [A-Za-z0-9_-]');
    const owned = this.perOwner.get(owner) ?? 0;
    if (owned >= this.perUser) {
      throw new NetloomError('ticket_limit', `at most ${this.perUser} pending tickets per user`);
    }
    if (this.pendingCount >= this.maxPending) {
      throw new NetloomError('ticket_limit', 'the matchmaker is full; try again later');
    }
    const id = randomId();
    const entry: PoolEntry = {
      id,
      seq: ++this.seq,
      createdAt: this.deps.clock.now(),
      ticket,
      users: ticket.party ?? [owner],
    };
    this.tickets.set(id, {
      id,
      owner,
      identity,
      entry,
      state: 'pending',
      result: PENDING,
      doneAt: 0,
      waiters: new Set(),
    });
    this.perOwner.set(owner, owned + 1);
    this.pendingCount++;
    let pool = this.pools.get(ticket.roomType);
    if (!pool) {
      pool = new TicketPool();
      this.pools.set(ticket.roomType, pool);
    }
    pool.add(entry);
    this.deps.metrics.inc('matchmaker_tickets_submitted');
    this.arm();
    return { ticketId: id, owner };
  }

  async status(ticketId: string, access: TicketAccess = {}): Promise<TicketStatus> {
    return this.record(ticketId, access).result;
  }

  wait(ticketId: string, options: WaitOptions = {}): Promise<TicketStatus> {
    let record: TicketRecord;
    try {
      record = this.record(ticketId, options);
    } catch (err) {
      return Promise.reject(err);
    }
    if (record.state === 'done' || options.signal?.aborted) return Promise.resolve(record.result);
    const asked = options.waitMs;
    const waitMs =
      typeof asked === 'number' && Number.isFinite(asked) && asked >= 0
        ? Math.min(asked, this.longPollMs)
        : this.longPollMs;
    return new Promise((resolve) => {
      const done = () => {
        record.waiters.delete(done);
        this.deps.clock.clearTimeout(timer);
        options.signal?.removeEventListener('abort', done);
        resolve(record.result);
      };
      const timer = this.deps.clock.setTimeout(done, waitMs);
      record.waiters.add(done);
      options.signal?.addEventListener('abort', done, { once: true });
    });
  }

  async cancel(ticketId: string, access: TicketAccess = {}): Promise<boolean> {
    const record = this.record(ticketId, access);
    if (record.state === 'done') return false; // already matched, timed out or cancelled: nothing to undo
    this.finish(record, this.failure('ticket_cancelled', 'the ticket was cancelled'));
    return true;
  }

  step(): Promise<void> {
    return this.runPass();
  }

  /** Resolves once every match formed so far has been delivered. */
  async settled(): Promise<void> {
    while (this.inflight.size > 0) await Promise.all([...this.inflight]);
  }

  stats(): MatchmakerStats {
    return {
      pending: this.pendingCount - this.matchingCount,
      matching: this.matchingCount,
      matches: this.matchCount,
    };
  }

  /** Stops the timer and ends every unfinished ticket with `server_shutdown`. */
  close(): void {
    this.closed = true;
    if (this.timer !== undefined) this.deps.clock.clearTimeout(this.timer);
    this.timer = undefined;
    for (const record of [...this.tickets.values()]) {
      if (record.state !== 'done')
        this.finish(record, this.failure('server_shutdown', 'the server is shutting down'));
    }
  }

  private record(ticketId: string, access: TicketAccess): TicketRecord {
    const record = typeof ticketId === 'string' ? this.tickets.get(ticketId) : undefined;
    if (!record || (access.owner !== undefined && record.owner !== access.owner)) {
      throw new NetloomError('ticket_not_found', 'no such ticket');
    }
    return record;
  }

  private failure(code: ErrorCode, message: string): TicketStatus {
    return { status: 'failed', code, message };
  }

  private arm(): void {
    if (this.timer !== undefined || this.closed) return;
    this.timer = this.deps.clock.setTimeout(() => {
      this.timer = undefined;
      void this.runPass();
      if (this.tickets.size > 0) this.arm();
    }, this.intervalMs);
  }

  /** Forgets old results, times tickets out, then matches each room type's pool. */
  private runPass(): Promise<void> {
    const now = this.deps.clock.now();
    for (const record of this.retained.values()) {
      if (now - record.doneAt < this.retainMs) break;
      this.retained.delete(record.id);
      this.tickets.delete(record.id);
    }
    const deliveries: Promise<void>[] = [];
    for (const pool of this.pools.values()) {
      for (
        let oldest = pool.oldest();
        oldest && now - oldest.createdAt >= this.timeoutMs;
        oldest = pool.oldest()
      ) {
        const record = this.tickets.get(oldest.id);
        if (!record) pool.remove(oldest.id);
        else this.finish(record, this.failure('ticket_timeout', 'no match was found in time'));
      }
      if (pool.size === 0) continue;
      for (const match of findMatches(pool, now, this.pass)) {
        const records = match.map((entry) => {
          pool.remove(entry.id);
          const record = this.tickets.get(entry.id)!;
          record.state = 'matching';
          this.matchingCount++;
          return record;
        });
        const delivery = this.deliver(records).finally(() => this.inflight.delete(delivery));
        this.inflight.add(delivery);
        deliveries.push(delivery);
      }
    }
    return Promise.all(deliveries).then(() => undefined);
  }

  /** Creates the match's room, reserves every player's seat, and hands each ticket its seats. */
  private async deliver(records: TicketRecord[]): Promise<void> {
    const { roomType } = records[0].entry.ticket;
    const info: MatchInfo = {
      roomType,
      players: records.reduce((n, r) => n + r.entry.ticket.players, 0),
      tickets: records.map((r) => ({ ticketId: r.id, owner: r.owner, users: r.entry.users })),
    };
    this.matchCount++;
    this.deps.metrics.inc('matchmaker_matches');
    try {
      const room = await this.deps.createRoom(roomType, this.options.roomOptions?.(info));
      const results = await Promise.all(
        records.map(async (record): Promise<TicketStatus> => {
          const members = this.members(record);
          const seats = await Promise.all(
            members.map((m) => this.deps.reserveSeat(room.id, m.identity, m.joinData)),
          );
          const byKey: Record<string, JoinTicket> = {};
          members.forEach((m, i) => {
            byKey[m.key] = seats[i];
          });
          return { status: 'matched', roomId: room.id, seats: byKey, self: this.selfKey(record) };
        }),
      );
      records.forEach((record, i) => {
        if (record.state === 'matching') this.finish(record, results[i]);
      });
    } catch (err) {
      const e = toNetloomError(err);
      if (e.code === 'internal_error')
        this.deps.log.error({ err, roomType }, 'matchmaker could not seat a match');
      for (const record of records)
        if (record.state === 'matching') this.finish(record, this.failure(e.code, e.message));
    }
  }

  private members(
    record: TicketRecord,
  ): Array<{ key: string; identity: Identity | undefined; joinData: unknown }> {
    const { party, joinData } = record.entry.ticket;
    if (!party) return [{ key: 'self', identity: record.identity, joinData }];
    const self = this.selfKey(record);
    return party.map((userId) => ({
      key: userId,
      joinData: userId === self ? joinData : undefined,
      identity:
        userId === record.identity?.userId
          ? record.identity
          : this.options.trustPartyIds
            ? { userId, data: {} }
            : undefined,
    }));
  }

  private selfKey(record: TicketRecord): string {
    const { party } = record.entry.ticket;
    if (!party) return 'self';
    return record.identity?.userId ?? party[0];
  }

  private finish(record: TicketRecord, result: TicketStatus): void {
    if (record.state === 'done') return;
    if (record.state === 'pending') this.pools.get(record.entry.ticket.roomType)?.remove(record.id);
    else this.matchingCount--;
    this.pendingCount--;
    const owned = (this.perOwner.get(record.owner) ?? 1) - 1;
    if (owned > 0) this.perOwner.set(record.owner, owned);
    else this.perOwner.delete(record.owner);
    record.state = 'done';
    record.result = result;
    record.doneAt = this.deps.clock.now();
    this.retained.set(record.id, record);
    this.deps.metrics.inc(`matchmaker_tickets{${result.status === 'failed' ? result.code : result.status}}`);
    for (const waiter of [...record.waiters]) waiter();
  }
}
