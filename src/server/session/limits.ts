// Per-client limits on received messages: size, and rate (a warning notice first, then a kick).

/** Limits on what one client session may send. Every limit has a default. */
export interface ClientLimits {
  /**
   * Largest data frame (one message) a client may send, in bytes (default 16,384). A larger one
   * ends the session with `message_too_large`. The transport's frame limit (64 KiB) still applies
   * before this one.
   */
  maxMessageBytes: number;
  /** Sustained message rate per session, reliable and unreliable together (default 120/s; 0 disables). */
  messagesPerSecond: number;
  /** Messages a session may send in a burst above the rate (default 240). */
  messageBurst: number;
  /**
   * A session over the rate is warned once (a `message_rate_exceeded` notice); if it is still
   * over the rate this long after the warning, it is kicked: the session ends with
   * `message_rate_exceeded` (default 2,000 ms).
   */
  rateGraceMs: number;
  /** A stretch this long with no message over the rate forgets the warning (default 5,000 ms). */
  rateQuietMs: number;
}

export const DEFAULT_CLIENT_LIMITS: ClientLimits = {
  maxMessageBytes: 16_384,
  messagesPerSecond: 120,
  messageBurst: 240,
  rateGraceMs: 2_000,
  rateQuietMs: 5_000,
};

/** What to do with one received message. */
export const RateVerdict = {
  /** Within the rate: handle it. */
  Ok: 0,
  /** Over the rate: drop it. */
  Drop: 1,
  /** Over the rate for the first time in a while: drop it and warn the client. */
  Warn: 2,
  /** Still over the rate after the grace period: drop it and end the session. */
  Kick: 3,
} as const;
export type RateVerdict = (typeof RateVerdict)[keyof typeof RateVerdict];

/** The state of a token bucket (a session keeps it in its own fields, so a message touches no other object). */
export interface TokenBucketState {
  rateTokens: number;
  rateLast: number;
}

/** Takes one token at `now` from `state`, refilled at `perMs` up to `burst`; false when it is empty. */
export function takeToken(state: TokenBucketState, now: number, perMs: number, burst: number): boolean {
  const elapsed = now > state.rateLast ? now - state.rateLast : 0;
  state.rateLast = now;
  const tokens = Math.min(burst, state.rateTokens + elapsed * perMs);
  if (tokens < 1) {
    state.rateTokens = tokens;
    return false;
  }
  state.rateTokens = tokens - 1;
  return true;
}

/**
 * The message rate limit of one session. Messages over the rate are dropped (the session layer has
 * already acknowledged them: a client that floods loses what it floods, and is told so by the
 * warning). Costs one token-bucket update per message; `now` is the time the frame arrived, which the
 * session already has, so no extra clock read.
 */
export class MessageRateLimit {
  /** Refill per ms and bucket size. */
  readonly perMs: number;
  readonly burst: number;
  /** The bucket of `check`; a session keeps its own in its fields and calls `takeToken` and `overLimit`. */
  private readonly bucket: TokenBucketState;
  private warnedAt: number | null = null;
  private lastOverAt = 0;

  constructor(
    private readonly limits: Pick<
      ClientLimits,
      'messagesPerSecond' | 'messageBurst' | 'rateGraceMs' | 'rateQuietMs'
    >,
    now: number,
  ) {
    this.burst = Math.max(1, limits.messageBurst);
    this.perMs = limits.messagesPerSecond / 1000;
    this.bucket = { rateTokens: this.burst, rateLast: now };
  }

  /** Creates the limit, or null when the rate limit is disabled (`messagesPerSecond` ≤ 0 or not finite). */
  static create(limits: ClientLimits, now: number): MessageRateLimit | null {
    const rate = limits.messagesPerSecond;
    if (!(rate > 0) || !Number.isFinite(rate)) return null;
    return new MessageRateLimit(limits, now);
  }

  /** Takes one message arriving at `now` (ms) and says what to do with it. */
  check(now: number): RateVerdict {
    return takeToken(this.bucket, now, this.perMs, this.burst) ? RateVerdict.Ok : this.overLimit(now);
  }

  /** A message arrived at `now` with the bucket empty: warn (once per episode), drop, or kick after the grace period. */
  overLimit(now: number): RateVerdict {
    const episodeOver = this.warnedAt === null || now - this.lastOverAt > this.limits.rateQuietMs;
    this.lastOverAt = now;
    if (episodeOver) {
      this.warnedAt = now;
      return RateVerdict.Warn;
    }
    return now - (this.warnedAt ?? now) >= this.limits.rateGraceMs ? RateVerdict.Kick : RateVerdict.Drop;
  }
}

/** Fills in defaults and checks values (a bad value throws a TypeError at start-up, not at run time). */
export function clientLimits(partial: Partial<ClientLimits> | undefined): ClientLimits {
  const limits = { ...DEFAULT_CLIENT_LIMITS, ...partial };
  for (const [key, value] of Object.entries(limits)) {
    if (typeof value !== 'number' || Number.isNaN(value) || value < 0)
      throw new TypeError(`session.limits.${key} must be a number ≥ 0, got ${String(value)}`);
  }
  if (limits.maxMessageBytes < 1) throw new TypeError('session.limits.maxMessageBytes must be ≥ 1');
  return limits;
}
