// Test helper: runs a throwaway redis-server child process on a free loopback port and stops it by its own pid.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './ports.js';

export interface RedisInstance {
  /** The TCP port redis listens on (127.0.0.1 only). */
  port: number;
  /** `redis://127.0.0.1:<port>`. */
  url: string;
  /** Kills the server (SIGTERM, then SIGKILL after 3 s), waits for it to exit and removes its temp dir. */
  stop(): Promise<void>;
  /**
   * Stops the server and starts a new, empty one (no persistence) on the same port: what clients see
   * when Redis restarts and loses its data. `whileDown` runs between the two (what clients see
   * during the outage). Resolves once the new one accepts connections.
   */
  restart(whileDown?: () => Promise<void>): Promise<void>;
  /** Pid of the running redis-server (it changes on restart). */
  readonly pid: number;
}

export interface StartRedisOptions {
  /** How long to wait for "Ready to accept connections"; default 10 s. */
  readyTimeoutMs?: number;
  /** redis-server binary; default `redis-server` from PATH. */
  binary?: string;
}

const READY = 'Ready to accept connections';
const ATTEMPTS = 3;

/** Starts redis-server on a free port and resolves once it accepts connections. */
export async function startRedis(options: StartRedisOptions = {}): Promise<RedisInstance> {
  let lastError: unknown;
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    const port = await freePort();
    try {
      return await startOn(port, options);
    } catch (err) {
      lastError = err;
      // Another process may have taken the port between freePort() and redis' bind: try a new one.
      if (!(err instanceof Error && /Address already in use/i.test(err.message))) throw err;
    }
  }
  throw lastError;
}

async function startOn(port: number, options: StartRedisOptions): Promise<RedisInstance> {
  let running = await spawnOn(port, options);
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    get pid() {
      return running.pid;
    },
    stop: () => running.stop(),
    async restart(whileDown) {
      await running.stop();
      try {
        await whileDown?.();
      } finally {
        running = await spawnOn(port, options);
      }
    },
  };
}

interface RunningRedis {
  pid: number;
  stop(): Promise<void>;
}

async function spawnOn(port: number, options: StartRedisOptions): Promise<RunningRedis> {
  const dir = await mkdtemp(join(tmpdir(), 'netloom-redis-'));
  const binary = options.binary ?? 'redis-server';
  const args = [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--save',
    '',
    '--appendonly',
    'no',
    '--dir',
    dir,
  ];
  const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
  const stop = async (): Promise<void> => {
    await kill(child, exited);
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await waitReady(child, options.readyTimeoutMs ?? 10_000, binary, port);
  } catch (err) {
    await stop();
    throw err;
  }
  // After start-up nobody reads the pipes; keep draining them so redis never blocks on a full pipe.
  child.stdout?.resume();
  child.stderr?.resume();
  return { pid: child.pid ?? 0, stop };
}

function waitReady(child: ChildProcess, timeoutMs: number, binary: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let output = '';
    const onData = (chunk: Buffer): void => {
      output += chunk.toString('utf8');
      if (output.includes(READY)) finish();
    };
    const onError = (err: Error): void => {
      finish(new Error(`startRedis: could not run '${binary}' (${err.message}); is redis-server installed?`));
    };
    const onExit = (code: number | null, signal: NodeJS.Signals | null): void => {
      finish(
        new Error(
          `startRedis: redis-server on port ${port} exited (${code ?? signal}) before it was ready:\n${output.trim()}`,
        ),
      );
    };
    const timer = setTimeout(() => {
      finish(
        new Error(
          `startRedis: redis-server on port ${port} not ready after ${timeoutMs} ms:\n${output.trim()}`,
        ),
      );
    }, timeoutMs);
    const finish = (err?: Error): void => {
      clearTimeout(timer);
      child.stdout?.off('data', onData);
      child.stderr?.off('data', onData);
      child.off('error', onError);
      child.off('exit', onExit);
      if (err) reject(err);
      else resolve();
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('error', onError);
    child.once('exit', onExit);
  });
}

async function kill(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  child.kill('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const forced = new Promise<void>((resolve) => {
    timer = setTimeout(() => {
      child.kill('SIGKILL');
      resolve();
    }, 3_000);
  });
  await Promise.race([exited, forced]);
  clearTimeout(timer);
  await exited;
}
