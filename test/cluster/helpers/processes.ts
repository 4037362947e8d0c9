// Test helper: runs netloom node processes (and their redis-server) as real child processes, stopped by their own pids.
import { type ChildProcess, spawn } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { ReadyLine } from '../../../demos/cluster/node.js';
import { type RedisInstance, startRedis } from '../../helpers/redis.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, '..', '..', '..');
/** The test node entry (echo room and test routes). */
export const ECHO_NODE = resolve(HERE, 'echo-node.ts');
/** The seat secret every test node shares. */
export const TEST_SEAT_SECRET = 'process-cluster-secret-0123456789';

/** How a node process ended. */
export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** One running node process. */
export interface NodeProcess {
  readonly nodeId: string;
  /** Its public base URL (`http://127.0.0.1:<port>`). */
  readonly url: string;
  readonly pid: number;
  /** Resolves when the process has exited. */
  readonly exited: Promise<Exit>;
  /** Everything it wrote on stderr so far. */
  stderr(): string;
  /** Sends `signal` to its pid and waits for the exit (SIGKILL after `graceMs` if it is still alive). */
  kill(signal?: NodeJS.Signals, graceMs?: number): Promise<Exit>;
}

/** What a node process printed before it exited without READY. */
export class NodeStartError extends Error {
  constructor(
    message: string,
    readonly exit: Exit | null,
    readonly stdout: string,
    readonly stderr: string,
  ) {
    super(message);
  }
}

/** Every child started here and not yet exited: killed by pid on cleanup and when the worker exits. */
const live = new Set<ChildProcess>();
/** Clusters started here and not yet stopped (their redis-server is stopped by `killAllNodes`). */
const clusters = new Set<ProcessCluster>();

function killNow(child: ChildProcess): void {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  try {
    process.kill(child.pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}

process.on('exit', () => {
  for (const child of live) killNow(child);
});

export interface SpawnNodeOptions {
  /** Entry script (default the echo test node). */
  entry?: string;
  /** Env for the node (REDIS_URL, NODE_ID, HEARTBEAT_MS…); SEAT_SECRET and PORT=0 are filled in. */
  env: Record<string, string>;
  /** Longest wait for READY (default 15 s). */
  readyTimeoutMs?: number;
}

/**
 * Spawns `node --import tsx <entry>` and resolves once it prints READY. Rejects with a NodeStartError
 * when it exits first (or is killed after the timeout) carrying what it printed.
 */
export function spawnNode(options: SpawnNodeOptions): Promise<NodeProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', options.entry ?? ECHO_NODE], {
    cwd: ROOT,
    env: { ...process.env, SEAT_SECRET: TEST_SEAT_SECRET, PORT: '0', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(child);
  let stdout = '';
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
  });
  const exited = new Promise<Exit>((done) => {
    child.once('exit', (code, signal) => {
      live.delete(child);
      done({ code, signal });
    });
  });
  const kill = async (signal: NodeJS.Signals = 'SIGTERM', graceMs = 5_000): Promise<Exit> => {
    if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
      child.kill(signal);
      const timer = setTimeout(() => killNow(child), graceMs);
      const exit = await exited;
      clearTimeout(timer);
      return exit;
    }
    return exited;
  };
  return new Promise<NodeProcess>((resolveReady, reject) => {
    const lines = createInterface({ input: child.stdout! });
    const timer = setTimeout(() => {
      killNow(child);
      reject(
        new NodeStartError(
          `node not READY after ${options.readyTimeoutMs ?? 15_000} ms`,
          null,
          stdout,
          stderr,
        ),
      );
    }, options.readyTimeoutMs ?? 15_000);
    lines.on('line', (line) => {
      stdout += `${line}\n`;
      if (!line.startsWith('READY ')) return;
      clearTimeout(timer);
      const ready = JSON.parse(line.slice('READY '.length)) as ReadyLine;
      resolveReady({
        nodeId: ready.nodeId,
        url: ready.url,
        pid: ready.pid,
        exited,
        stderr: () => stderr,
        kill,
      });
    });
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(new NodeStartError(`could not spawn node: ${err.message}`, null, stdout, stderr));
    });
    void exited.then((exit) => {
      clearTimeout(timer);
      // After READY this rejection is ignored (the promise is settled).
      reject(
        new NodeStartError(`node exited (${exit.code ?? exit.signal}) before READY`, exit, stdout, stderr),
      );
    });
  });
}

/** A redis-server and netloom node processes sharing it. */
export interface ProcessCluster {
  redis: RedisInstance;
  nodes: NodeProcess[];
  /** Env every node of this cluster gets (REDIS_URL, REDIS_PREFIX, heartbeat timing). */
  env: Record<string, string>;
  /** Every node's stderr (warnings and errors it logged), for a failed test's report. */
  logs(): string;
  /** Starts one more node with id `nodeId`. */
  add(nodeId: string, env?: Record<string, string>): Promise<NodeProcess>;
  /** SIGKILLs every node still running and stops Redis. */
  stop(): Promise<void>;
}

export interface StartClusterOptions {
  nodes: number;
  /** Extra env for every node (e.g. ECHO_MAX_CLIENTS). */
  env?: Record<string, string>;
}

/** Starts a redis-server and `nodes` node processes (ids `n1`…), in parallel; stops them all if one fails. */
export async function startProcessCluster(options: StartClusterOptions): Promise<ProcessCluster> {
  const redis = await startRedis();
  const nodes: NodeProcess[] = [];
  const env = {
    REDIS_URL: redis.url,
    REDIS_PREFIX: 'pt:',
    // Short enough for quick tests, long enough that a busy machine's pauses are not taken for deaths.
    HEARTBEAT_MS: '200',
    NODE_TTL_MS: '1500',
    NODE_LOG: '1',
    REQUEST_TIMEOUT_MS: '2000',
    ...options.env,
  };
  const cluster: ProcessCluster = {
    redis,
    nodes,
    env,
    logs: () => nodes.map((n) => `--- ${n.nodeId} (pid ${n.pid}) ---\n${n.stderr()}`).join('\n'),
    async add(nodeId, extra = {}) {
      const node = await spawnNode({ env: { ...env, NODE_ID: nodeId, TAGS: `node=${nodeId}`, ...extra } });
      nodes.push(node);
      return node;
    },
    async stop() {
      clusters.delete(cluster);
      await Promise.all(nodes.map((n) => n.kill('SIGKILL')));
      await redis.stop();
    },
  };
  clusters.add(cluster);
  try {
    const started = await Promise.allSettled(
      Array.from({ length: options.nodes }, (_, i) => cluster.add(`n${i + 1}`)),
    );
    const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed) throw failed.reason;
    nodes.sort((a, b) => a.nodeId.localeCompare(b.nodeId));
  } catch (err) {
    await cluster.stop();
    throw err;
  }
  return cluster;
}

/**
 * Last-resort cleanup (an afterAll): stops every cluster not stopped yet (its nodes and its
 * redis-server) and SIGKILLs any other node process started by this module.
 */
export async function killAllNodes(): Promise<void> {
  await Promise.all([...clusters].map((c) => c.stop()));
  const waits: Promise<void>[] = [];
  for (const child of live) {
    waits.push(new Promise<void>((done) => child.once('exit', () => done())));
    killNow(child);
  }
  await Promise.all(waits);
}
