// Times every call into the quiche binding's Connection over the measured window, for the netloom server's stats (NATIVE_CALLS=1).
import quiche from '@matrixai/quic/native/quiche.js';

interface CallTally {
  calls: number;
  ms: number;
}

/**
 * When env ARENA_NATIVE_CALLS is set: wraps each method of quiche's Connection so that its calls are
 * counted and timed (performance.now() around each; about 0.05 µs added per call). The runner's first
 * SIGUSR2 starts the window and the second ends it. The returned function reads the window's tallies
 * (calls per second, µs per call, cores used) for the shutdown stats, or null when not enabled.
 */
export function installNativeCallTimer(): () => Record<string, unknown> | null {
  if (!process.env['ARENA_NATIVE_CALLS']) return () => null;
  const proto = (quiche.Connection as unknown as { prototype: Record<string, unknown> }).prototype;
  const tallies = new Map<string, CallTally>();
  let counting = false;
  for (const name of Object.getOwnPropertyNames(proto)) {
    const method = proto[name];
    if (name === 'constructor' || typeof method !== 'function') continue;
    const tally: CallTally = { calls: 0, ms: 0 };
    tallies.set(name, tally);
    proto[name] = function timed(this: unknown, ...args: unknown[]): unknown {
      if (!counting) return method.apply(this, args);
      const start = performance.now();
      try {
        return method.apply(this, args);
      } finally {
        tally.ms += performance.now() - start;
        tally.calls++;
      }
    };
  }
  let windowStart = 0;
  let windowMs = 0;
  process.on('SIGUSR2', () => {
    if (!counting && windowMs === 0) {
      for (const tally of tallies.values()) {
        tally.calls = 0;
        tally.ms = 0;
      }
      windowStart = performance.now();
      counting = true;
    } else if (counting) {
      counting = false;
      windowMs = performance.now() - windowStart;
    }
  });
  return () => {
    if (windowMs === 0) return null;
    const seconds = windowMs / 1000;
    const rows: Record<string, { per_s: number; us_per_call: number; cpu: number }> = {};
    let totalMs = 0;
    for (const [name, tally] of [...tallies].sort((a, b) => b[1].ms - a[1].ms)) {
      if (tally.calls === 0) continue;
      totalMs += tally.ms;
      rows[name] = {
        per_s: Math.round(tally.calls / seconds),
        us_per_call: Number(((1000 * tally.ms) / tally.calls).toFixed(2)),
        cpu: Number((tally.ms / windowMs).toFixed(4)),
      };
    }
    return { cpu_total: Number((totalMs / windowMs).toFixed(4)), calls: rows };
  };
}
