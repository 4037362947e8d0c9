// The matchmaker across a cluster: tickets live in Redis, one leased node runs passes, claims make each match once.
import { type ErrorCode, NetloomError, toNetloomError } from '../../codec/errors.js';
import type { TimerHandle } from '../../shared/clock.js';
import type { MatchTicketRequest } from '../../shared/matchmaking.js';
import { randomId } from '../seats.js';
import { TicketNotices } from './cluster-notices.js';
import { PoolMirror } from './cluster-pool.js';
import { ClusterStore, encodeTicket } from './cluster-store.js';
import { type MatchedTicket, seatMatch } from './deliver.js';
import {
  admitTicket,
  clusterSettings,
  describeMetrics,
  type MatchmakerSettings,
  matchmakerSettings,
  waitBound,
} from './settings.js';
import type {
  ClusterMatchmakerConfig,
  MatchmakerDeps,
  MatchmakerOptions,
  MatchmakerService,
  MatchmakerStats,
  SubmitOptions,
  TicketAccess,
  TicketStatus,
  WaitOptions,
} from './types.js';

/** Longest ticket id looked up in Redis (ids are 16 characters; anything longer is unknown). */
const MAX_ID_LENGTH = 64;

/**
 * The matchmaker of a cluster of nodes sharing one Redis, with the in-memory one's semantics (limits,
 * timeouts, widening, parties, fillWaitMs, retention, long-polls). Any node files, reads, awaits and
 * cancels any ticket: tickets and results live in Redis (ticket hashes, a `pending` and a `claimed` set,
 * per-owner counts), so limits hold cluster-wide. Every `intervalMs` each node runs one script that renews
 * or takes the pass lease (`SET NX PX`); only the holder runs passes, which:
 * 1. sweep (one script): claims older than `claimTimeoutMs` (their leader died mid-delivery) go back to
 *    pending, tickets older than `ticketTimeoutMs` end with `ticket_timeout`, and the pending ids come back
 *    with the Redis clock, the one clock all ages (timeouts, widening, fillWaitMs) are measured by;
 * 2. load only tickets new to this node's pool mirror (one script), and run `findMatches` on it;
 * 3. claim all the pass's matches in one script: a match is claimed only when each of its tickets is still
 *    pending, so overlapping leaders (a lapsed lease, or `step()` on several nodes) never match a ticket twice;
 * 4. deliver each claimed match (create the room, reserve seats), then write the results of the tickets
 *    still claimed under the pass's token (batched, one script) and publish their ids, so a long-poll on
 *    any node resolves at once. A ticket cancelled meanwhile keeps its cancellation; its partners still play.
 * Results stay `retainMs` (a key TTL). `close()` leaves the cluster's tickets to the other nodes.
 */
export class ClusterMatchmaker implements MatchmakerService {
  private readonly settings: MatchmakerSettings;
  private readonly store: ClusterStore;
  /** Finished-ticket notices on the bus, and this node's long-polls they wake. */
  private readonly notices: TicketNotices;
  private readonly leaseMs: number;
  private readonly claimTimeoutMs: number;
  private readonly commandTimeoutMs: number;
  /** The pending tickets as this node's passes see them. */
  private readonly mirror = new PoolMirror();
  private readonly inflight = new Set<Promise<void>>();
  private passes: Promise<unknown> = Promise.resolve();
  private timer: TimerHandle | undefined;
  private counts: MatchmakerStats = { pending: 0, matching: 0, matches: 0 };
  private leading = false;
  private closed = false;
  private warned = false;

  constructor(
    private readonly deps: MatchmakerDeps,
    private readonly options: MatchmakerOptions,
    private readonly config: ClusterMatchmakerConfig,
  ) {
    this.settings = matchmakerSettings(options);
    describeMetrics(deps.metrics);
    deps.metrics.describe('matchmaker_claims_lost', {
      help: 'Matches a pass formed but left because another pass had taken one of their tickets.',
    });
    ({
      leaseMs: this.leaseMs,
      claimTimeoutMs: this.claimTimeoutMs,
      commandTimeoutMs: this.commandTimeoutMs,
    } = clusterSettings(config, this.settings.intervalMs));
    this.store = new ClusterStore(config.backend.redis, config.backend.prefix, this.commandTimeoutMs);
    this.notices = new TicketNotices(config.backend, this.store, deps.log, () => this.closed);
    void this.notices.subscribe().catch(() => {}); // retried by the timer and by waits
    this.arm();
  }

  /** True while this node holds the pass lease (as of its last tick). */
  get leader(): boolean {
    return this.leading;
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
    const id = randomId();
    const { perUser, maxPending } = this.settings;
    const outcome = await this.store.submit(
      id,
      owner,
      { perUser, maxPending },
      encodeTicket(ticket),
      identity,
    );
    if (outcome === 'user')
      throw new NetloomError('ticket_limit', `at most ${perUser} pending tickets per user`);
    if (outcome === 'full') throw new NetloomError('ticket_limit', 'the matchmaker is full; try again later');
    this.deps.metrics.inc('matchmaker_tickets_submitted');
    return { ticketId: id, owner };
  }

  async status(ticketId: string, access: TicketAccess = {}): Promise<TicketStatus> {
    return (await this.read(ticketId, access)).status;
  }

  async wait(ticketId: string, options: WaitOptions = {}): Promise<TicketStatus> {
    const waitMs = waitBound(options.waitMs, this.settings.longPollMs);
    if (!this.known(ticketId)) throw new NetloomError('ticket_not_found', 'no such ticket');
    return new Promise<TicketStatus>((resolve, reject) => {
      let timer: TimerHandle | undefined;
      let over = false;
      const end = (status: TicketStatus | Error): void => {
        if (over) return;
        over = true;
        this.notices.forget(ticketId, end);
        if (timer !== undefined) this.deps.clock.clearTimeout(timer);
        options.signal?.removeEventListener('abort', onAbort);
        if (status instanceof Error) reject(status);
        else resolve(status);
      };
      const onAbort = (): void => end({ status: 'pending' });
      // Listen before reading, so that a result published between the read and the listening is not missed.
      this.notices.listen(ticketId, end);
      this.read(ticketId, options).then(async ({ status }) => {
        if (over) return; // a notice came first
        if (status.status !== 'pending' || options.signal?.aborted || waitMs === 0 || this.closed)
          return end(status);
        options.signal?.addEventListener('abort', onAbort, { once: true });
        timer = this.deps.clock.setTimeout(() => {
          // The bus delivers at most once: the last word is a read.
          this.read(ticketId, {}).then(({ status }) => end(status), end);
        }, waitMs);
        if (!this.notices.subscribed) {
          await this.notices.subscribe().catch(() => {});
          if (!over)
            this.read(ticketId, {}).then(
              ({ status }) => status.status !== 'pending' && end(status),
              () => {},
            );
        }
      }, end);
    });
  }

  async cancel(ticketId: string, access: TicketAccess = {}): Promise<boolean> {
    if (!this.known(ticketId)) throw new NetloomError('ticket_not_found', 'no such ticket');
    const result = failure('ticket_cancelled', 'the ticket was cancelled');
    const outcome = await this.store.cancel(ticketId, access.owner, result, this.settings.retainMs);
    if (outcome === 'missing') throw new NetloomError('ticket_not_found', 'no such ticket');
    if (outcome === 'done') return false;
    this.deps.metrics.inc('matchmaker_tickets{ticket_cancelled}');
    await this.notices.announce([ticketId]);
    return true;
  }

  /**
   * Runs one pass now, lease or not (claims keep overlapping passes safe), and resolves once its matches
   * are delivered.
   */
  async step(): Promise<void> {
    const deliveries = await this.enqueuePass();
    await Promise.all(deliveries);
  }

  /** Resolves once every match this node formed so far has been delivered. */
  async settled(): Promise<void> {
    while (this.inflight.size > 0) await Promise.all([...this.inflight]);
  }

  /** Cluster-wide counts as of this node's last tick (every `intervalMs`); `matches` counts every node's. */
  stats(): MatchmakerStats {
    return { ...this.counts };
  }

  /**
   * Stops the timer, finishes this node's deliveries, gives up the lease and unsubscribes. Tickets stay
   * in Redis for the other nodes; this node's long-polls end with `{ status: 'pending' }`.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer !== undefined) this.deps.clock.clearTimeout(this.timer);
    this.timer = undefined;
    // Deliveries under way get a bounded while to record their results; any left behind are claims that
    // lapse after claimTimeoutMs, when the leader puts their tickets back.
    let timer: ReturnType<typeof setTimeout> | undefined;
    const bound = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, this.commandTimeoutMs);
    });
    await Promise.race([this.passes.then(() => this.settled()), bound]);
    clearTimeout(timer);
    if (this.leading) await this.store.resign(this.config.nodeId).catch(() => {});
    this.leading = false;
    this.mirror.clear();
    await this.notices.close();
  }

  private known(ticketId: unknown): ticketId is string {
    return typeof ticketId === 'string' && ticketId.length > 0 && ticketId.length <= MAX_ID_LENGTH;
  }

  private async read(
    ticketId: string,
    access: TicketAccess,
  ): Promise<{ owner: string; status: TicketStatus }> {
    const found = this.known(ticketId) ? await this.store.status(ticketId) : undefined;
    if (!found || (access.owner !== undefined && found.owner !== access.owner)) {
      throw new NetloomError('ticket_not_found', 'no such ticket');
    }
    return found;
  }

  private arm(): void {
    if (this.closed) return;
    this.timer = this.deps.clock.setTimeout(() => {
      this.timer = undefined;
      void this.tick().finally(() => this.arm());
    }, this.settings.intervalMs);
  }

  /** Renews or takes the lease, refreshes the counts, and runs a pass while leading. */
  private async tick(): Promise<void> {
    try {
      if (!this.notices.subscribed) void this.notices.subscribe().catch(() => {});
      const t = await this.store.tick(this.config.nodeId, this.leaseMs);
      this.counts = { pending: t.pending, matching: t.claimed, matches: t.matches };
      this.warned = false;
      if (!t.leader && this.leading) {
        this.mirror.clear();
      }
      this.leading = t.leader;
      if (t.leader && !this.closed) await this.enqueuePass();
    } catch (err) {
      this.leading = false;
      if (!this.warned) this.deps.log.warn({ err }, 'matchmaker pass failed; retrying');
      this.warned = true;
    }
  }

  /** Runs a pass after any running one; resolves with its deliveries once its matches are claimed. */
  private enqueuePass(): Promise<Promise<void>[]> {
    const run = this.passes.then(() => this.pass());
    this.passes = run.catch(() => {});
    return run;
  }

  private async pass(): Promise<Promise<void>[]> {
    const { timeoutMs, retainMs } = this.settings;
    const timeout = failure('ticket_timeout', 'no match was found in time');
    const sweep = await this.store.sweep({
      timeoutMs,
      claimTimeoutMs: this.claimTimeoutMs,
      retainMs,
      timeout,
    });
    if (sweep.timedOut.length > 0) {
      this.deps.metrics.inc('matchmaker_tickets{ticket_timeout}', sweep.timedOut.length);
      void this.notices.announce(sweep.timedOut);
    }
    await this.mirror.sync(sweep.pending, (ids, onBad) =>
      this.store.fetch(ids, (id, err) => {
        this.deps.log.warn({ err, ticketId: id }, 'matchmaker skipped an unreadable ticket');
        onBad(id);
      }),
    );
    const matches = this.mirror.matches(sweep.now, this.settings.pass);
    if (matches.length === 0) return [];
    const token = `${this.config.nodeId}:${randomId(9)}`;
    const claimed = await this.store.claim(
      token,
      matches.map((match) => match.map((entry) => entry.id)),
    );
    const deliveries: Promise<void>[] = [];
    matches.forEach((match, i) => {
      if (!claimed[i]) {
        // Another pass took one of its tickets, or one ended: the next pass sees the rest again.
        this.deps.metrics.inc('matchmaker_claims_lost');
        return;
      }
      const tickets: MatchedTicket[] = [];
      for (const entry of match) {
        const stored = this.mirror.take(entry.id);
        if (stored) tickets.push({ ...stored, users: entry.users });
      }
      const delivery = this.deliver(tickets, token).finally(() => this.inflight.delete(delivery));
      this.inflight.add(delivery);
      deliveries.push(delivery);
    });
    return deliveries;
  }

  /** Seats a claimed match and records each ticket's result (or the error that stopped it). */
  private async deliver(tickets: MatchedTicket[], token: string): Promise<void> {
    this.deps.metrics.inc('matchmaker_matches');
    let results: TicketStatus[];
    try {
      results = await seatMatch(this.deps, this.options, tickets);
    } catch (err) {
      const e = toNetloomError(err);
      if (e.code === 'internal_error') {
        this.deps.log.error(
          { err, roomType: tickets[0].ticket.roomType },
          'matchmaker could not seat a match',
        );
      }
      results = tickets.map(() => failure(e.code, e.message));
    }
    const mine = tickets.map((t, i) => ({ id: t.id, token, status: results[i] }));
    try {
      const finished = await this.store.deliver(mine, this.settings.retainMs, (ids) =>
        this.notices.announce(ids),
      );
      for (const r of mine) {
        if (!finished.has(r.id)) continue;
        const { status } = r;
        this.deps.metrics.inc(
          `matchmaker_tickets{${status.status === 'failed' ? status.code : status.status}}`,
        );
      }
    } catch (err) {
      // The claims lapse after claimTimeoutMs and the tickets go back to pending.
      this.deps.log.warn({ err }, 'matchmaker could not record a match; its tickets will be retried');
    }
  }
}

function failure(code: ErrorCode, message: string): TicketStatus {
  return { status: 'failed', code, message };
}
