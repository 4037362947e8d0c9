// The PING side of a session core: the ping timer, a timed PING held for a data frame to ride with, and RTT from PONGs.
import { encodeFrame, FrameKind } from '../codec/frames.js';
import type { Link } from '../link/link.js';
import type { Clock, TimerHandle } from '../shared/clock.js';

/** What the pinger reads from the core's options (read live, so interval changes apply). */
export interface PingerOptions {
  pingIntervalMs: number;
  pingHoldMs: number;
  clock: Clock;
}

/**
 * Sends PINGs on a timer while a link is attached and turns PONGs into a smoothed RTT. A timed PING is
 * held (`due`) for up to `pingHoldMs` so that the core can send it just before its next data frame;
 * its send time is taken when it really goes out, so the RTT is not skewed by the hold.
 */
export class Pinger {
  private isDue = false;
  private timer: TimerHandle | null = null;
  private holdTimer: TimerHandle | null = null;
  private lastId = 0;
  private readonly inFlight = new Map<number, number>();
  private smoothed = 0;
  private samples = 0;

  constructor(
    private readonly options: PingerOptions,
    private readonly link: () => Link | null,
    /** Told whenever `due` changes (the core mirrors it in its own field, read on every send). */
    private readonly dueChanged: (due: boolean) => void = () => {},
  ) {}

  /** A timed PING is waiting for a data frame to ride with: the core calls `ping()` before that frame. */
  get due(): boolean {
    return this.isDue;
  }

  private set due(value: boolean) {
    if (value === this.isDue) return;
    this.isDue = value;
    this.dueChanged(value);
  }

  /** Smoothed round-trip time in ms (0 until the first PONG). */
  get rtt(): number {
    return this.smoothed;
  }

  /** (Re)starts the timer: the first PING after 100 ms (or the interval, if shorter), then every interval; 0 stops it. */
  start(): void {
    this.clear('timer');
    const every = this.options.pingIntervalMs;
    if (every <= 0) {
      this.clear('holdTimer');
      this.due = false;
      return;
    }
    const tick = () => {
      this.timer = this.options.clock.setTimeout(tick, every);
      this.hold();
    };
    this.timer = this.options.clock.setTimeout(tick, Math.min(every, 100));
  }

  /** Stops the timers and forgets PINGs in flight (the link is gone). */
  stop(): void {
    this.clear('timer');
    this.clear('holdTimer');
    this.due = false;
    this.inFlight.clear();
  }

  /** Sends a PING now on the current link (a held one goes with it). */
  ping(): void {
    const link = this.link();
    if (!link) return;
    if (this.due) {
      this.due = false;
      this.clear('holdTimer');
    }
    const id = ++this.lastId;
    this.inFlight.set(id, this.options.clock.now());
    if (this.inFlight.size > 16) this.inFlight.delete(this.inFlight.keys().next().value as number);
    link.send('reliable', encodeFrame({ kind: FrameKind.Ping, id }));
  }

  /** A PONG arrived: one RTT sample, if it answers a PING in flight. */
  pong(id: number): void {
    const sentAt = this.inFlight.get(id);
    if (sentAt === undefined) return;
    this.inFlight.delete(id);
    const sample = this.options.clock.now() - sentAt;
    // A plain mean over the first 8 samples (so one slow first ping, taken while a page loads, fades
    // fast), then an exponentially weighted mean with weight 1/8 as in TCP's SRTT.
    this.samples++;
    this.smoothed += (sample - this.smoothed) / Math.min(this.samples, 8);
  }

  /** A timed PING: rides with the next data frame, or goes alone after the hold. */
  private hold(): void {
    // At most half the interval, so that a short interval still pings at its own pace.
    const hold = Math.min(this.options.pingHoldMs, this.options.pingIntervalMs / 2);
    if (hold <= 0) {
      this.ping();
      return;
    }
    if (this.due) return;
    this.due = true;
    this.holdTimer = this.options.clock.setTimeout(() => {
      this.holdTimer = null;
      this.ping();
    }, hold);
  }

  private clear(name: 'timer' | 'holdTimer'): void {
    const handle = this[name];
    if (handle !== null) {
      this.options.clock.clearTimeout(handle);
      this[name] = null;
    }
  }
}
