// The per-session signaling state machine on the answering side: which message is legal when, and the offer and candidate limits.
import type { ErrorCode } from '../codec/errors.js';
import type { SignalMessage } from './messages.js';

/**
 * Where one session's upgrade stands, on the side that answers offers (the server):
 * `idle` (none; an offer may start one), `answering` (offer taken, answer being made),
 * `connecting` (answer sent, waiting for the link), `linked` (link open, waiting for SWITCH),
 * `active` (the session switched to the upgraded link).
 */
export type UpgradePhase = 'idle' | 'answering' | 'connecting' | 'linked' | 'active';

/** Limits on one session's signaling; each has a default. */
export interface SignalStateLimits {
  /** Remote ICE candidates accepted per peer connection (default 64); more is `candidate_limit`. */
  maxCandidates: number;
  /** Offers accepted per session in any 60 s (default 6); more is `signal_rate_exceeded`. */
  offersPerMinute: number;
}

export const DEFAULT_SIGNAL_STATE_LIMITS: SignalStateLimits = { maxCandidates: 64, offersPerMinute: 6 };

const MINUTE_MS = 60_000;

/**
 * The answering side's state for one session. `check` says whether a message from the offering
 * side is legal now (null) or is refused (a code), and moves the phase for offers, restarts and
 * closes; the owner moves it further with `advance` as the peer connection progresses.
 */
export class SignalState {
  private current: UpgradePhase = 'idle';
  private candidates = 0;
  private readonly offerTimes: number[] = [];

  constructor(
    private readonly limits: SignalStateLimits = DEFAULT_SIGNAL_STATE_LIMITS,
    private readonly now: () => number = Date.now,
  ) {}

  get phase(): UpgradePhase {
    return this.current;
  }

  /**
   * Checks `message` against the phase and limits. On null the message is taken: an offer moves
   * `idle` to `answering`; restart and close move any phase to `idle` (the owner tears the peer
   * down). A refusal leaves the state as it was.
   */
  check(message: SignalMessage): ErrorCode | null {
    switch (message.kind) {
      case 'offer': {
        if (this.current !== 'idle') return 'signal_unexpected';
        const now = this.now();
        while (this.offerTimes.length > 0 && now - this.offerTimes[0] >= MINUTE_MS) this.offerTimes.shift();
        if (this.offerTimes.length >= this.limits.offersPerMinute) return 'signal_rate_exceeded';
        this.offerTimes.push(now);
        this.candidates = 0;
        this.current = 'answering';
        return null;
      }
      case 'candidate':
        if (this.current === 'idle') return 'signal_unexpected';
        if (this.candidates >= this.limits.maxCandidates) return 'candidate_limit';
        this.candidates++;
        return null;
      case 'answer':
        return 'signal_unexpected';
      default:
        this.current = 'idle';
        return null;
    }
  }

  /** Moves to `phase` (the peer answered, its link opened, the session switched, or it was torn down). */
  advance(phase: UpgradePhase): void {
    this.current = phase;
    if (phase === 'idle') this.candidates = 0;
  }
}
