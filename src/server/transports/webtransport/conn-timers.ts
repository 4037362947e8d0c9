// The timers of one QUIC connection: quiche's own deadline, and the short hold of a pure acknowledgement (one queue for all).

/**
 * How long a pure acknowledgement may wait for a packet to ride on (ms): longer than a 30 Hz tick,
 * so it nearly always goes out with the next state or input, and below the max_ack_delay this side
 * advertises (config.ts), so the peer's RTT estimate and loss timers account for it.
 */
export const ACK_DELAY_MS = 40;

/**
 * The held acknowledgements of every connection in the process, in one FIFO under one timer. Every hold
 * lasts ACK_DELAY_MS, so holds come due in the order they start; a game holds and releases one per
 * connection per tick, and a queue entry costs far less than a Node timer armed and cleared each time.
 */
class AckHolds {
  #timers: ConnTimers[] = [];
  #dueAt: number[] = [];
  /** Which hold of its connection an entry is: a released and re-held connection skips its old entry. */
  #holds: number[] = [];
  #head = 0;
  #timer: NodeJS.Timeout | null = null;

  add(timers: ConnTimers, hold: number): void {
    this.#timers.push(timers);
    this.#dueAt.push(Date.now() + ACK_DELAY_MS);
    this.#holds.push(hold);
    if (this.#timer === null) this.#arm(ACK_DELAY_MS);
  }

  #arm(ms: number): void {
    this.#timer = setTimeout(this.#run, ms);
    this.#timer.unref();
  }

  readonly #run = (): void => {
    this.#timer = null;
    const now = Date.now();
    const timers = this.#timers;
    let i = this.#head;
    // Entries are taken off before their callback runs: a callback may add more.
    for (; i < timers.length && this.#dueAt[i]! <= now; i = this.#head) {
      this.#head = i + 1;
      const t = timers[i]!;
      timers[i] = RELEASED;
      t.holdDue(this.#holds[i]!);
    }
    if (this.#head === timers.length) {
      timers.length = 0;
      this.#dueAt.length = 0;
      this.#holds.length = 0;
      this.#head = 0;
    } else {
      if (this.#head > 1024 && this.#head * 2 > timers.length) {
        timers.splice(0, this.#head);
        this.#dueAt.splice(0, this.#head);
        this.#holds.splice(0, this.#head);
        this.#head = 0;
      }
      if (this.#timer === null) this.#arm(Math.max(1, this.#dueAt[this.#head]! - now));
    }
  };
}

export class ConnTimers {
  #deadline: NodeJS.Timeout | null = null;
  #deadlineAt = 0;
  /** Number of the current hold of a pure acknowledgement; 0 while none is held. */
  #hold = 0;
  #holdsMade = 0;

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
    if (this.#hold !== 0) return;
    this.#hold = ++this.#holdsMade;
    ackHolds.add(this, this.#hold);
  }

  /** A flush is sending everything now, the held acknowledgement with it. */
  ackSent(): void {
    this.#hold = 0;
  }

  /** Internal (AckHolds): hold number `hold` came due; it flushes unless it was released meanwhile. */
  holdDue(hold: number): void {
    if (hold !== this.#hold) return;
    this.#hold = 0;
    this.onAckDue();
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
}

/** A released slot of the hold queue (keeps the array of one shape; its holds never match). */
const RELEASED = new ConnTimers(
  () => null,
  () => {},
  () => {},
);
const ackHolds = new AckHolds();
