// An injectable clock: real time by default, a manual clock in tests that need to control time.

export type TimerHandle = unknown;

/** Time and timers. Everything in netloom that waits or measures goes through one of these. */
export interface Clock {
  /** Milliseconds, monotonic. */
  now(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

/** The real clock: `performance.now()` and the platform's timers. */
export const systemClock: Clock = {
  now: () => performance.now(),
  setTimeout: (fn, ms) => globalThis.setTimeout(fn, ms),
  clearTimeout: (handle) => globalThis.clearTimeout(handle as ReturnType<typeof setTimeout>),
};

interface ManualTimer {
  at: number;
  fn: () => void;
  id: number;
}

/** A clock that only moves when told to: `advance(ms)` runs due timers in time order. */
export class ManualClock implements Clock {
  private time = 0;
  private nextId = 1;
  private timers: ManualTimer[] = [];

  now(): number {
    return this.time;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const timer = { at: this.time + Math.max(0, ms), fn, id: this.nextId++ };
    this.timers.push(timer);
    return timer.id;
  }

  clearTimeout(handle: TimerHandle): void {
    this.timers = this.timers.filter((t) => t.id !== handle);
  }

  /** Moves time forward by `ms`, firing every timer that falls due, earliest first. */
  advance(ms: number): void {
    const target = this.time + ms;
    for (;;) {
      let next: ManualTimer | undefined;
      for (const t of this.timers) if (t.at <= target && (!next || t.at < next.at)) next = t;
      if (!next) break;
      this.timers = this.timers.filter((t) => t !== next);
      this.time = next.at;
      next.fn();
    }
    this.time = target;
  }
}
