// Window-scoped CPU profiling of a bench server: the runner sends SIGUSR2 at window start and end.
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';

/**
 * When env ARENA_CPU_PROFILE names a file: the first SIGUSR2 starts V8's sampling profiler, the second
 * stops it, writes the .cpuprofile there and prints {"event":"profile","path":...} on stdout.
 */
export function installWindowProfiler(): void {
  const out = process.env['ARENA_CPU_PROFILE'];
  if (!out) return;
  const session = new Session();
  session.connect();
  let running = false;
  process.on('SIGUSR2', () => {
    if (!running) {
      running = true;
      session.post('Profiler.enable', () => session.post('Profiler.start'));
      return;
    }
    session.post('Profiler.stop', (err, result) => {
      if (!err) writeFileSync(out, JSON.stringify(result.profile));
      const event = err
        ? { event: 'error', message: `profiler: ${err.message}` }
        : { event: 'profile', path: out };
      process.stdout.write(`${JSON.stringify(event)}\n`);
    });
  });
}
