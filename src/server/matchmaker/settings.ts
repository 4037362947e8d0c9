// Matchmaker options resolved once (defaults filled in, bad values refused) and the owner id rule, shared by both implementations.
import { NetloomError } from '../../codec/errors.js';
import type { MatchTicketRequest } from '../../shared/matchmaking.js';
import type { Identity } from '../identity.js';
import type { Metrics } from '../metrics.js';
import { randomId } from '../seats.js';
import type { PassOptions, Widening } from './match.js';
import { type NormalizedTicket, type TicketLimits, ticketLimits, validateTicket } from './ticket.js';
import type { ClusterMatchmakerConfig, MatchmakerOptions, SubmitOptions } from './types.js';

/** The matchmaker options with every default filled in. */
export interface MatchmakerSettings {
  intervalMs: number;
  timeoutMs: number;
  perUser: number;
  maxPending: number;
  longPollMs: number;
  retainMs: number;
  limits: TicketLimits;
  pass: PassOptions;
}

const OWNER_PATTERN = /^[A-Za-z0-9_-]{8,64}$/;

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

/** Fills in the defaults of the matchmaker options; a bad option throws `request_invalid`. */
export function matchmakerSettings(options: MatchmakerOptions = {}): MatchmakerSettings {
  return {
    intervalMs: Math.max(1, nonNegative(options.intervalMs, 500, 'intervalMs')),
    timeoutMs: nonNegative(options.ticketTimeoutMs, 60_000, 'ticketTimeoutMs'),
    perUser: nonNegative(options.ticketsPerUser, 3, 'ticketsPerUser'),
    maxPending: nonNegative(options.maxPendingTickets, 100_000, 'maxPendingTickets'),
    longPollMs: nonNegative(options.longPollMs, 20_000, 'longPollMs'),
    retainMs: nonNegative(options.retainMs, 30_000, 'retainMs'),
    limits: ticketLimits(options.limits),
    pass: {
      widening: checkWidening({ ...options.widening }),
      maxScan: Math.max(1, nonNegative(options.maxScan, 256, 'maxScan')),
      fillWaitMs: nonNegative(options.fillWaitMs, 0, 'fillWaitMs'),
    },
  };
}

/** The cluster matchmaker's timings with defaults filled in; a value that is not > 0 throws `request_invalid`. */
export function clusterSettings(
  config: ClusterMatchmakerConfig,
  intervalMs: number,
): { leaseMs: number; claimTimeoutMs: number; commandTimeoutMs: number } {
  const positive = (v: number | undefined, fallback: number, name: string): number => {
    const n = v ?? fallback;
    if (typeof n !== 'number' || !Number.isFinite(n) || n <= 0) {
      throw new NetloomError('request_invalid', `matchmaker cluster ${name} must be a number > 0`);
    }
    return n;
  };
  return {
    leaseMs: Math.ceil(positive(config.leaseMs, Math.max(2_000, 5 * intervalMs), 'leaseMs')),
    claimTimeoutMs: positive(config.claimTimeoutMs, 30_000, 'claimTimeoutMs'),
    commandTimeoutMs: positive(config.commandTimeoutMs, 5_000, 'commandTimeoutMs'),
  };
}

/** The owner a ticket is filed under: the user id when authenticated, else the given or a new anonymous id. */
export function ticketOwner(identity: Identity | undefined, options: SubmitOptions): string {
  if (identity) return identity.userId;
  if (options.owner === undefined) return randomId();
  if (typeof options.owner === 'string' && OWNER_PATTERN.test(options.owner)) return options.owner;
  throw new NetloomError('ticket_invalid', 'owner ids are 8 to 64 characters of [A-Za-z0-9_-]');
}

/**
 * A submission's first steps, the same on one node and in a cluster: refused when the matchmaker
 * is closed (`server_shutdown`), the request validated (`ticket_invalid`), and its owner found.
 */
export function admitTicket(
  closed: boolean,
  request: MatchTicketRequest,
  options: SubmitOptions,
  limits: TicketLimits,
  capacity: (type: string) => number | undefined,
): { ticket: NormalizedTicket; owner: string } {
  if (closed) throw new NetloomError('server_shutdown', 'the matchmaker is closed');
  const ticket = validateTicket(request, { limits, capacity, userId: options.identity?.userId });
  return { ticket, owner: ticketOwner(options.identity, options) };
}

/** The long-poll wait a caller asked for, capped by `longPollMs`. */
export function waitBound(asked: number | undefined, longPollMs: number): number {
  return typeof asked === 'number' && Number.isFinite(asked) && asked >= 0
    ? Math.min(asked, longPollMs)
    : longPollMs;
}

/** Registers the matchmaker's metrics. */
export function describeMetrics(metrics: Metrics): void {
  metrics.describe('matchmaker_tickets_submitted', { help: 'Matchmaking tickets filed.' });
  metrics.describe('matchmaker_matches', { help: 'Matches the matchmaker formed.' });
  metrics.describe('matchmaker_tickets', {
    help: 'Matchmaking tickets finished, by outcome (matched, or the error code they ended with).',
    label: 'outcome',
  });
}
