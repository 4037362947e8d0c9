// Diagnostics a bench server prints on shutdown: event-loop delay, stalls and GC pauses (for stderr only).
import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';

const STALL_MS = 100;

/** Starts recording; the returned function reads what was recorded so far. */
export function startServerStats(): () => Record<string, number | string[]> {
  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  let gcCount = 0;
  let gcTotalMs = 0;
  let gcMaxMs = 0;
  const gc = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      gcCount += 1;
      gcTotalMs += entry.duration;
      gcMaxMs = Math.max(gcMaxMs, entry.duration);
    }
  });
  gc.observe({ entryTypes: ['gc'] });
  // Gaps between 10 ms timer runs longer than STALL_MS: how often the loop was blocked or descheduled.
  let stalls = 0;
  const stallsAt: string[] = [];
  let last = performance.now();
  const probe = setInterval(() => {
    const now = performance.now();
    if (now - last > STALL_MS) {
      stalls += 1;
      // Wall-clock time and length of the first few, to line them up with the runner's phases.
      if (stallsAt.length < 5) stallsAt.push(`${new Date().toISOString()}/${Math.round(now - last)}ms`);
    }
    last = now;
  }, 10);
  probe.unref();
  const ms = (ns: number) => Number((ns / 1e6).toFixed(1));
  return () => ({
    loop_delay_p99_ms: ms(delay.percentile(99)),
    loop_delay_max_ms: ms(delay.max),
    stalls_over_100ms: stalls,
    stalls_at: stallsAt,
    gc_count: gcCount,
    gc_total_ms: Number(gcTotalMs.toFixed(1)),
    gc_max_ms: Number(gcMaxMs.toFixed(1)),
  });
}
