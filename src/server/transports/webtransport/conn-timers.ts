// The two timers of one QUIC connection: quiche's own deadline, and the short hold of a pure acknowledgement.

/**
 * How long a pure acknowledgement may wait for a packet to ride on (ms): longer than a 30 Hz tick,
 * so it nearly always goes out with the next state or input, and below the max_ack_delay this side
 * advertises (config.ts), so the peer's RTT estimate and loss timers account for it.
 */
export const ACK_DELAY_MS = 40;

export class ConnTimers {
  #deadline: NodeJS.Timeout | null = null;
  #deadlineAt = 0;
  #ack: NodeJS.Timeout | null = null;

  constructor(
    /** ms until quiche's deadline (its `timeout()`), or null for none. */
    private readonly timeLeft: () => number | null,
    /** quiche's deadline passed: call `onTimeout` and flush. */
    private readonly onDeadline: () => void,
    /** A held acknowledgement is due: flush. */
    private readonly onAckDue: () => void,
  ) {}

  /** Arms quiche's deadline `ms` from now (null: none). A timer that fires no later than needed is kept. */
  arm(ms: number | null): void {
    if (ms === null) {
      this.#clearDeadline();
      return;
    }
    const at = Date.now() + ms;
    // quiche's onTimeout is a no-op before its deadline, so an earlier timer can stay.
    if (this.#deadline !== null && this.#deadlineAt <= at + 1) return;
    this.#clearDeadline();
    this.#deadlineAt = at;
    this.#deadline = setTimeout(this.#fireDeadline, Math.ceil(ms) + 1);
    this.#deadline.unref();
  }

  /** Holds a pure acknowledgement for up to ACK_DELAY_MS, unless a flush sends it first. */
  holdAck(): void {
    if (this.#ack !== null) return;
    this.#ack = setTimeout(this.#fireAck, ACK_DELAY_MS);
    this.#ack.unref();
  }

  /** A flush is sending everything now, the held acknowledgement with it. */
  ackSent(): void {
    if (this.#ack !== null) clearTimeout(this.#ack);
    this.#ack = null;
  }

  clear(): void {
    this.#clearDeadline();
    this.ackSent();
  }

  #clearDeadline(): void {
    if (this.#deadline !== null) clearTimeout(this.#deadline);
    this.#deadline = null;
  }

  readonly #fireDeadline = (): void => {
    this.#deadline = null;
    // A timer is kept when quiche's deadline moves later (each packet sent pushes its loss timer on):
    // when it fires early, wait for the rest only.
    const left = this.timeLeft();
    if (left !== null && left >= 1) this.arm(left);
    else this.onDeadline();
  };

  readonly #fireAck = (): void => {
    this.#ack = null;
    this.onAckDue();
  };
}
