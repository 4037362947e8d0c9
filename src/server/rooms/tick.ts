// A drift-corrected fixed-timestep loop: ticks stay on an absolute schedule; a long stall skips ahead.

/** Runs `onTick(dtMs)` at `rate` Hz on an absolute schedule, so timer lateness does not accumulate. */
export class TickLoop {
  count = 0;
  private readonly intervalMs: number;
  private nextAt = 0;
  private timer: unknown = null;
  private running = false;

  constructor(
    rate: number,
    private readonly clock: import('../../shared/clock.js').Clock,
    private readonly onTick: (dtMs: number) => void,
    private readonly onOverrun: () => void,
    /** Ticks behind schedule after which the loop skips ahead instead of catching up. */
    private readonly maxBehind = 5,
  ) {
    this.intervalMs = 1000 / rate;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.nextAt = this.clock.now() + this.intervalMs;
    this.schedule();
  }

  stop(): void {
    this.running = false;
    if (this.timer !== null) this.clock.clearTimeout(this.timer);
    this.timer = null;
  }

  private schedule(): void {
    const delay = Math.max(0, this.nextAt - this.clock.now());
    this.timer = this.clock.setTimeout(() => this.run(), delay);
  }

  private run(): void {
    this.timer = null;
    if (!this.running) return;
    const now = this.clock.now();
    if (now - this.nextAt > this.intervalMs * this.maxBehind) {
      this.onOverrun();
      this.nextAt = now;
    }
    this.count++;
    this.onTick(this.intervalMs);
    this.nextAt += this.intervalMs;
    if (this.running) this.schedule();
  }
}
