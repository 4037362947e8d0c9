// The matchmaker's public types: options, ticket statuses, the in-process API and the service's dependencies.
import type { ErrorCode } from '../../codec/errors.js';
import type { Clock } from '../../shared/clock.js';
import type { MatchTicketRequest } from '../../shared/matchmaking.js';
import type { ClusterBackend } from '../cluster/types.js';
import type { Identity } from '../identity.js';
import type { Logger, Metrics } from '../metrics.js';
import type { JoinTicket } from '../options.js';
import type { Widening } from './match.js';
import type { TicketLimits } from './ticket.js';

/** Options of the matchmaker (`matchmaker` in the server options). Every limit has a default. */
export interface MatchmakerOptions {
  /** Time between matching passes (default 500 ms). */
  intervalMs?: number;
  /** A ticket not matched in this long ends with `ticket_timeout` (default 60,000 ms). */
  ticketTimeoutMs?: number;
  /** Most pending tickets per owner (user id, or anonymous owner id); more is `ticket_limit` (default 3). */
  ticketsPerUser?: number;
  /** Most pending tickets in all; more is `ticket_limit` (default 100,000). */
  maxPendingTickets?: number;
  /**
   * Numeric query ranges widen while their ticket waits: `{ skill: { perSecond: 50, max: 500 } }` moves
   * both bounds of every `skill` range out by 50 per second waited, at most 500. The key `'*'` applies to
   * every property without its own rule. Default: no widening.
   */
  widening?: Widening;
  /**
   * A match that could still take more players forms only once its oldest ticket has waited this long,
   * so that slow trickles fill bigger matches (default 0: match as soon as the minimum is met).
   */
  fillWaitMs?: number;
  /** Candidates each ticket examines per pass; bounds a pass's cost on large pools (default 256). */
  maxScan?: number;
  /** Longest wait of one long-poll request for a ticket's result (default 20,000 ms). */
  longPollMs?: number;
  /** How long a finished ticket's result stays readable (default 30,000 ms). */
  retainMs?: number;
  /** Ticket size limits. */
  limits?: Partial<TicketLimits>;
  /**
   * Seats of party members other than the submitter carry no identity by default, because the submitter
   * names them and nothing proves who they are. Set this when party lists are trustworthy (e.g. your
   * backend submits them): each member's seat then carries `{ userId: member, data: {} }`.
   */
  trustPartyIds?: boolean;
  /**
   * Rate of ticket filing (POST) per client IP over HTTP (default 5/s, burst 10); over it: 429
   * `rate_limited`. `false` turns it off. The in-process API is not limited.
   */
  ticketRatePerIp?: { perSecond?: number; burst?: number } | false;
  /** Options handed to the created room's `onCreate` (default: none). */
  roomOptions?: (match: MatchInfo) => unknown;
}

/** What a finished or waiting ticket says. */
export type TicketStatus =
  | { status: 'pending' }
  | {
      status: 'matched';
      roomId: string;
      /** One seat per player of the ticket: `self` for a solo ticket, party members' user ids for a party. */
      seats: Record<string, JoinTicket>;
      /** Key in `seats` of the submitter's own seat. */
      self: string;
    }
  | { status: 'failed'; code: ErrorCode; message: string };

/** The match a room is created for. */
export interface MatchInfo {
  roomType: string;
  players: number;
  tickets: Array<{ ticketId: string; owner: string; users: string[] }>;
}

export interface SubmitOptions {
  /** Who submits (from `authenticate`); the ticket then belongs to `identity.userId`. */
  identity?: Identity;
  /** Anonymous owner id to file the ticket under (default: a new random one). */
  owner?: string;
}

export interface TicketAccess {
  /** When given, the ticket must belong to this owner (else `ticket_not_found`). */
  owner?: string;
}

export interface WaitOptions extends TicketAccess {
  /** Longest wait, capped by `longPollMs` (default `longPollMs`). */
  waitMs?: number;
  signal?: AbortSignal;
}

export interface MatchmakerStats {
  pending: number;
  matching: number;
  matches: number;
}

/** The matchmaker as `app.netloom.matchmaker` exposes it. */
export interface MatchmakerApi {
  /** Files a ticket; throws `ticket_invalid` or `ticket_limit`. */
  submit(request: MatchTicketRequest, options?: SubmitOptions): Promise<{ ticketId: string; owner: string }>;
  /** The ticket's state now; throws `ticket_not_found`. */
  status(ticketId: string, access?: TicketAccess): Promise<TicketStatus>;
  /** Resolves when the ticket is matched or ends, or after the wait with `{ status: 'pending' }`. */
  wait(ticketId: string, options?: WaitOptions): Promise<TicketStatus>;
  /**
   * Cancels an unfinished ticket (its result becomes `ticket_cancelled`) and answers true; a finished one
   * is left as it is (false). Throws `ticket_not_found`.
   */
  cancel(ticketId: string, access?: TicketAccess): Promise<boolean>;
  /** Runs one matching pass now; resolves once its matches are delivered (tests, tools). */
  step(): Promise<void>;
  stats(): MatchmakerStats;
}

/** A running matchmaker as the server holds it: the API plus draining and shutdown. */
export interface MatchmakerService extends MatchmakerApi {
  /** Resolves once every match this process formed so far has been delivered. */
  settled(): Promise<void>;
  /** Stops its timers (the in-memory one also ends every unfinished ticket with `server_shutdown`). */
  close(): void | Promise<void>;
}

export interface MatchmakerDeps {
  clock: Clock;
  /** Seats in a room of `type`, or undefined when the server has no such type. */
  capacity(type: string): number | undefined;
  createRoom(type: string, options: unknown): Promise<{ id: string }>;
  reserveSeat(roomId: string, identity: Identity | undefined, joinData?: unknown): Promise<JoinTicket>;
  log: Logger;
  metrics: Metrics;
}

/** What the cluster matchmaker needs of the cluster: the driver's Redis client, key prefix and message bus. */
export type MatchmakerBackend = Pick<ClusterBackend, 'redis' | 'prefix' | 'publish' | 'subscribe'>;

/** Selects the cluster matchmaker (`createMatchmaker({ ..., cluster })`). */
export interface ClusterMatchmakerConfig {
  backend: MatchmakerBackend;
  /** This node's id: the value of the pass lease while it holds it. */
  nodeId: string;
  /**
   * How long the pass lease lasts unrenewed: a dead leader's successor starts this long after
   * (default max(2 s, 5 × intervalMs)).
   */
  leaseMs?: number;
  /** A claimed match whose delivery has not finished in this long goes back to pending (default 30 s). */
  claimTimeoutMs?: number;
  /** Longest wait for one Redis call before it fails with `driver_unavailable` (default 5 s). */
  commandTimeoutMs?: number;
}
