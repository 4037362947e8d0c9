// The cluster demo: a redis-server on loopback and three arena node processes sharing it; Ctrl-C stops them all.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { ReadyLine } from './node.js';
import { type RedisServer, startRedisServer } from './redis.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, '..', '..');
const NODES = Number(process.env.NODES ?? 3);
/** First HTTP port; node i listens on BASE_PORT + i (BASE_PORT=0: any free ports). */
const BASE_PORT = Number(process.env.BASE_PORT ?? 3001);

/** The node processes, and Redis once started. */
const children: ChildProcess[] = [];
let redis: RedisServer | undefined;

/** Starts one arena node process and resolves with its READY line. */
function startNode(env: Record<string, string>): Promise<ReadyLine> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(HERE, 'node.ts')], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(child);
  return new Promise((ready, fail) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (line.startsWith('READY ')) ready(JSON.parse(line.slice(6)) as ReadyLine);
      else if (!line.startsWith('FAILED ')) process.stdout.write(`[${env.NODE_ID}] ${line}\n`);
    });
    child.once('exit', (code, signal) => fail(new Error(`${env.NODE_ID} exited (${code ?? signal})`)));
  });
}

/** SIGTERM to every node by its pid (SIGKILL to any left after 5 s), then stops Redis. */
async function stopAll(): Promise<void> {
  const alive = (c: ChildProcess): boolean => c.exitCode === null && c.signalCode === null;
  const waitExit = (c: ChildProcess): Promise<void> =>
    alive(c) ? new Promise((done) => c.once('exit', () => done())) : Promise.resolve();
  const force = setTimeout(() => {
    for (const c of children) if (alive(c)) c.kill('SIGKILL');
  }, 5_000);
  for (const c of children) if (alive(c)) c.kill('SIGTERM');
  await Promise.all(children.map(waitExit));
  clearTimeout(force);
  await redis?.stop();
}

async function main(): Promise<void> {
  let stopping = false;
  const stop = (code: number): void => {
    if (stopping) return;
    stopping = true;
    void stopAll().finally(() => process.exit(code));
  };
  process.once('SIGINT', () => stop(0));
  process.once('SIGTERM', () => stop(0));
  try {
    redis = await startRedisServer(Number(process.env.REDIS_PORT ?? 0));
    const redisPort = redis.port;
    const secret = process.env.SEAT_SECRET ?? randomBytes(24).toString('hex');
    const nodes = await Promise.all(
      Array.from({ length: NODES }, (_, i) =>
        startNode({
          REDIS_URL: `redis://127.0.0.1:${redisPort}`,
          SEAT_SECRET: secret,
          NODE_ID: `node${i + 1}`,
          PORT: String(BASE_PORT === 0 ? 0 : BASE_PORT + i),
          HOST: process.env.HOST ?? '127.0.0.1',
          // Each node needs its own UDP port for WebTransport: any free one.
          WT_PORT: '0',
        }),
      ),
    );
    console.log(`netloom cluster demo: Redis on 127.0.0.1:${redisPort}, ${nodes.length} arena nodes:`);
    for (const node of nodes) console.log(`  ${node.nodeId}  ${node.url}/   (pid ${node.pid})`);
    console.log(
      'Open tabs on different nodes: quick play puts them in the same arena wherever it runs (the seat\n' +
        'points at the owning node). Kill a node (kill -9 <pid>) to watch its players get room_lost.\n' +
        'Ctrl-C stops everything.',
    );
  } catch (err) {
    console.error(err instanceof Error ? err.message : err);
    stop(1);
  }
}

void main();
