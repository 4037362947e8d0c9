// Fixed-timestep ticking: every room of one rate shares one drift-corrected schedule (one timer, not one per room).
import type { Clock, TimerHandle } from '../../shared/clock.js';

/**
 * One absolute schedule at a fixed interval: timer lateness does not accumulate, and a stall of
 * more than `maxBehind` intervals skips ahead (counted as an overrun) instead of catching up.
 * All loops on it tick in one timer callback, so the writes of every room go out in one batch.
 */
class TickSchedule {
  readonly loops = new Set<TickLoop>();
  private nextAt = 0;
  private timer: TimerHandle | null = null;

  constructor(
    private readonly clock: Clock,
    readonly intervalMs: number,
    private readonly maxBehind: number,
    private readonly onIdle: () => void,
  ) {}

  add(loop: TickLoop): void {
    this.loops.add(loop);
    if (this.timer === null) {
      this.nextAt = this.clock.now() + this.intervalMs;
      this.schedule();
    }
  }

  remove(loop: TickLoop): void {
    this.loops.delete(loop);
    if (this.loops.size === 0 && this.timer !== null) {
      this.clock.clearTimeout(this.timer);
      this.timer = null;
      this.onIdle();
    }
  }

  private schedule(): void {
    this.timer = this.clock.setTimeout(() => this.run(), Math.max(0, this.nextAt - this.clock.now()));
  }

  private run(): void {
    const now = this.clock.now();
    const overrun = now - this.nextAt > this.intervalMs * this.maxBehind;
    if (overrun) this.nextAt = now;
    for (const loop of [...this.loops]) loop.fire(this.intervalMs, overrun);
    this.nextAt += this.intervalMs;
    if (this.loops.size > 0) this.schedule();
    else this.timer = null;
  }
}

const schedules = new WeakMap<Clock, Map<number, TickSchedule>>();

function scheduleFor(clock: Clock, intervalMs: number, maxBehind: number): TickSchedule {
  let byInterval = schedules.get(clock);
  if (!byInterval) {
    byInterval = new Map();
    schedules.set(clock, byInterval);
  }
  let schedule = byInterval.get(intervalMs);
  if (!schedule) {
    const map = byInterval;
    schedule = new TickSchedule(clock, intervalMs, maxBehind, () => map.delete(intervalMs));
    byInterval.set(intervalMs, schedule);
  }
  return schedule;
}

/** Runs `onTick(dtMs)` at `rate` Hz on the shared schedule of its clock and rate. */
export class TickLoop {
  count = 0;
  private schedule: TickSchedule | null = null;

  constructor(
    private readonly rate: number,
    private readonly clock: Clock,
    private readonly onTick: (dtMs: number) => void,
    private readonly onOverrun: () => void,
    /** Intervals behind schedule after which the loop skips ahead instead of catching up. */
    private readonly maxBehind = 5,
  ) {}

  start(): void {
    if (this.schedule) return;
    this.schedule = scheduleFor(this.clock, 1000 / this.rate, this.maxBehind);
    this.schedule.add(this);
  }

  stop(): void {
    this.schedule?.remove(this);
    this.schedule = null;
  }

  /** @internal Called by the schedule once per interval. */
  fire(dtMs: number, overrun: boolean): void {
    if (!this.schedule) return;
    if (overrun) this.onOverrun();
    this.count++;
    this.onTick(dtMs);
  }
}
