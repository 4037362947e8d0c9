// The matchmaker service: tickets' lifecycle (submit, wait, cancel, time out), the pass timer, and match delivery.
import { type ErrorCode, NetloomError, toNetloomError } from '../../codec/errors.js';
import type { TimerHandle } from '../../shared/clock.js';
import type { MatchTicketRequest } from '../../shared/matchmaking.js';
import type { Identity } from '../identity.js';
import { randomId } from '../seats.js';
import { type MatchedTicket, seatMatch } from './deliver.js';
import { findMatches, type PoolEntry, TicketPool } from './match.js';
import {
  admitTicket,
  describeMetrics,
  type MatchmakerSettings,
  matchmakerSettings,
  waitBound,
} from './settings.js';
import type {
  MatchmakerDeps,
  MatchmakerOptions,
  MatchmakerService,
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

const PENDING: TicketStatus = { status: 'pending' };

/** Groups compatible tickets on a timer of an injectable clock, creates their room and seats its players. */
export class Matchmaker implements MatchmakerService {
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

  private readonly settings: MatchmakerSettings;

  constructor(
    private readonly deps: MatchmakerDeps,
    private readonly options: MatchmakerOptions = {},
  ) {
    this.settings = matchmakerSettings(options);
    describeMetrics(deps.metrics);
  }

  async submit(
    request: MatchTicketRequest,
    options: SubmitOptions = {},
  ): Promise<{ ticketId: string; owner: string }> {
    const { identity } = options;
    const { ticket, owner } = admitTicket(
      this.closed,
      request,
      options,
      this.settings.limits,
      this.deps.capacity,
    );
    const owned = this.perOwner.get(owner) ?? 0;
    if (owned >= this.settings.perUser) {
      throw new NetloomError('ticket_limit', `at most ${this.settings.perUser} pending tickets per user`);
    }
    if (this.pendingCount >= this.settings.maxPending) {
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
    const waitMs = waitBound(options.waitMs, this.settings.longPollMs);
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
    }, this.settings.intervalMs);
  }

  /** Forgets old results, times tickets out, then matches each room type's pool. */
  private runPass(): Promise<void> {
    const now = this.deps.clock.now();
    for (const record of this.retained.values()) {
      if (now - record.doneAt < this.settings.retainMs) break;
      this.retained.delete(record.id);
      this.tickets.delete(record.id);
    }
    const deliveries: Promise<void>[] = [];
    for (const pool of this.pools.values()) {
      for (
        let oldest = pool.oldest();
        oldest && now - oldest.createdAt >= this.settings.timeoutMs;
        oldest = pool.oldest()
      ) {
        const record = this.tickets.get(oldest.id);
        if (!record) pool.remove(oldest.id);
        else this.finish(record, this.failure('ticket_timeout', 'no match was found in time'));
      }
      if (pool.size === 0) continue;
      for (const match of findMatches(pool, now, this.settings.pass)) {
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
    const tickets: MatchedTicket[] = records.map((r) => ({
      id: r.id,
      owner: r.owner,
      identity: r.identity,
      users: r.entry.users,
      ticket: r.entry.ticket,
    }));
    this.matchCount++;
    this.deps.metrics.inc('matchmaker_matches');
    try {
      const results = await seatMatch(this.deps, this.options, tickets);
      records.forEach((record, i) => {
        if (record.state === 'matching') this.finish(record, results[i]);
      });
    } catch (err) {
      const e = toNetloomError(err);
      if (e.code === 'internal_error')
        this.deps.log.error(
          { err, roomType: tickets[0].ticket.roomType },
          'matchmaker could not seat a match',
        );
      for (const record of records)
        if (record.state === 'matching') this.finish(record, this.failure(e.code, e.message));
    }
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
