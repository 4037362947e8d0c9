// Child processes of the benchmarks: `node --import tsx` scripts speaking JSON lines, pinned to a CPU when possible.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { dirname, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Server processes go on CPU 0 and the load generator on CPU 1 when the machine has 2 cores and taskset. */
export const canPin =
  availableParallelism() >= 2 && spawnSync('taskset', ['-V'], { stdio: 'ignore' }).status === 0;

const children = new Set<ChildProcess>();

function killNow(child: ChildProcess): void {
  if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
    try {
      process.kill(child.pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
}

/** SIGKILLs every child still running (also done when this process exits). */
export function killChildren(): void {
  for (const child of children) killNow(child);
}

process.on('exit', killChildren);

/** A child process that prints one JSON object per stdout line (other lines go to stderr). */
export class JsonProc {
  private readonly queue: Record<string, unknown>[] = [];
  private wake: (() => void) | undefined;
  readonly exited: Promise<void>;

  private constructor(readonly child: ChildProcess) {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      try {
        this.queue.push(JSON.parse(line) as Record<string, unknown>);
        this.wake?.();
      } catch {
        process.stderr.write(`[child ${child.pid}] ${line}\n`);
      }
    });
    // 'close', not 'exit': by then every stdout line (a server's final stats) has been read.
    this.exited = new Promise((done) => child.once('close', () => done()));
    void this.exited.then(() => {
      children.delete(child);
      this.wake?.();
    });
  }

  /** Runs `node [nodeArgs] --import tsx file` (on `cpu` when pinning is possible) with `env` added. */
  static start(file: string, env: NodeJS.ProcessEnv, cpu?: number, nodeArgs: string[] = []): JsonProc {
    const argv = [process.execPath, ...nodeArgs, '--import', 'tsx', file];
    const [cmd, ...args] = canPin && cpu !== undefined ? ['taskset', '-c', String(cpu), ...argv] : argv;
    const child = spawn(cmd, args, {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    children.add(child);
    return new JsonProc(child);
  }

  get pid(): number {
    return this.child.pid ?? 0;
  }

  /** The next line matching `match`; throws on an `{event:'error'}` line, on exit, or after `timeoutMs`. */
  async next(
    what: string,
    match: (m: Record<string, unknown>) => boolean,
    timeoutMs: number,
  ): Promise<Record<string, unknown>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const at = this.queue.findIndex((m) => match(m) || m.event === 'error');
      if (at >= 0) {
        const [msg] = this.queue.splice(at, 1);
        if (msg.event === 'error' && !match(msg)) throw new Error(`${what}: ${String(msg.message)}`);
        return msg;
      }
      if (this.child.exitCode !== null || this.child.signalCode !== null) {
        throw new Error(`${what}: child exited (${this.child.exitCode ?? this.child.signalCode})`);
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`${what}: timed out after ${timeoutMs} ms`);
      await new Promise<void>((done) => {
        const timer = setTimeout(done, left);
        this.wake = () => {
          clearTimeout(timer);
          done();
        };
      });
      this.wake = undefined;
    }
  }

  /** `signal` by pid, SIGKILL after `graceMs`; resolves once it exited. */
  async stop(graceMs = 3_000, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill(signal);
    const timer = setTimeout(() => killNow(this.child), graceMs);
    await this.exited;
    clearTimeout(timer);
  }
}

/** p-th percentile (nearest rank) of sorted values. */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

export const round = (v: number, digits = 3): number => Number(v.toFixed(digits));
