// One netloom node of a cluster from env: Redis driver, shared seat secret, a READY line on stdout, graceful SIGTERM.
import { pathToFileURL } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { NetloomError } from '../../src/codec/errors.js';
import { type Driver, type NetloomOptions, redisDriver } from '../../src/server/index.js';
import { startDemo } from '../arena/serve.js';

/**
 * What a node reads from its environment:
 * - `REDIS_URL` (default `redis://127.0.0.1:6379`), `REDIS_PREFIX` (default `netloom:`), `REDIS_CONNECT_TIMEOUT_MS` (2,000)
 * - `SEAT_SECRET` (required, ≥ 16 characters, the same on every node), `NODE_ID` (default `node-<pid>`)
 * - `PORT` (0 = any free port), `HOST` (127.0.0.1), `PUBLIC_URL` (default `http://<host>:<port>`)
 * - `HEARTBEAT_MS`, `NODE_TTL_MS`, `REQUEST_TIMEOUT_MS`, `CAPACITY` (netloom's defaults when unset)
 * - `TAGS` (`region=eu,zone=a`): the node's tags; a room created with one of these keys goes to a node with that value
 * - `WT_PORT` (WebTransport UDP port; 0 = any free one), `WEBTRANSPORT` (`0` turns it off)
 */
export interface NodeEnv {
  redisUrl: string;
  redisPrefix: string;
  connectTimeoutMs: number;
  seatSecret: string;
  nodeId: string;
  port: number;
  host: string;
  webtransport: boolean;
  webtransportPort: number;
  cluster: NonNullable<NetloomOptions['cluster']>;
}

/** The line a node prints once it listens and is registered: `READY {"nodeId":…,"url":…,"pid":…}`. */
export interface ReadyLine {
  nodeId: string;
  url: string;
  pid: number;
}

/** Reads and checks a node's settings; throws a NetloomError `request_invalid` naming the bad variable. */
export function readNodeEnv(env: NodeJS.ProcessEnv = process.env): NodeEnv {
  const int = (name: string, fallback: number | undefined, min = 0): number | undefined => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < min) {
      throw new NetloomError('request_invalid', `${name}=${raw} is not an integer ≥ ${min}`);
    }
    return value;
  };
  const seatSecret = env.SEAT_SECRET ?? '';
  if (seatSecret.length < 16) {
    throw new NetloomError(
      'request_invalid',
      'SEAT_SECRET must be set to the same secret (≥ 16 characters) on every node',
    );
  }
  const port = int('PORT', 0) ?? 0;
  if (port > 65_535) throw new NetloomError('request_invalid', `PORT=${port} is not a port`);
  const cluster: NodeEnv['cluster'] = {};
  const heartbeatMs = int('HEARTBEAT_MS', undefined, 1);
  const nodeTtlMs = int('NODE_TTL_MS', undefined, 1);
  const requestTimeoutMs = int('REQUEST_TIMEOUT_MS', undefined, 1);
  const capacity = int('CAPACITY', undefined, 1);
  if (heartbeatMs !== undefined) cluster.heartbeatMs = heartbeatMs;
  if (nodeTtlMs !== undefined) cluster.nodeTtlMs = nodeTtlMs;
  if (requestTimeoutMs !== undefined) cluster.requestTimeoutMs = requestTimeoutMs;
  if (capacity !== undefined) cluster.capacity = capacity;
  if (env.PUBLIC_URL) cluster.publicUrl = env.PUBLIC_URL;
  if (env.TAGS) cluster.tags = parseTags(env.TAGS);
  return {
    redisUrl: env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    redisPrefix: env.REDIS_PREFIX ?? 'netloom:',
    connectTimeoutMs: int('REDIS_CONNECT_TIMEOUT_MS', 2_000, 1) ?? 2_000,
    seatSecret,
    nodeId: env.NODE_ID ?? `node-${process.pid}`,
    port,
    host: env.HOST ?? '127.0.0.1',
    webtransport: env.WEBTRANSPORT !== '0',
    webtransportPort: int('WT_PORT', 0) ?? 0,
    cluster,
  };
}

/** `region=eu,zone=a` as tags; throws `request_invalid` on a part without `=`. */
function parseTags(raw: string): Record<string, string> {
  const tags: Record<string, string> = {};
  for (const part of raw.split(',')) {
    const at = part.indexOf('=');
    if (at < 1) throw new NetloomError('request_invalid', `TAGS: '${part}' is not key=value`);
    Object.defineProperty(tags, part.slice(0, at).trim(), {
      value: part.slice(at + 1).trim(),
      enumerable: true,
    });
  }
  return tags;
}

/** A started node: its listening app and how to stop it. */
export interface StartedNode {
  app: FastifyInstance;
  close(): Promise<void>;
}

/**
 * Runs one node until SIGTERM or SIGINT: connects the Redis driver, starts the node with `start`,
 * waits until the node is in the cluster registry, then prints the READY line. On a signal it shuts
 * down gracefully (clients get `server_shutdown`, the node leaves the registry) and exits 0. A start
 * failure prints `FAILED {"code":…}` on stdout and `netloom node <id>: <code>: <message>` on stderr,
 * then exits 1 (Redis unreachable: `driver_unavailable`).
 */
export async function runNode(start: (env: NodeEnv, driver: Driver) => Promise<StartedNode>): Promise<void> {
  let env: NodeEnv | undefined;
  try {
    env = readNodeEnv();
    const driver = await redisDriver({
      url: env.redisUrl,
      prefix: env.redisPrefix,
      connectTimeoutMs: env.connectTimeoutMs,
    });
    let node: StartedNode;
    try {
      node = await start(env, driver);
    } catch (err) {
      await driver.close().catch(() => undefined);
      throw err;
    }
    await registered(node.app, env.nodeId, 10_000);
    const ready: ReadyLine = {
      nodeId: env.nodeId,
      url: node.app.netloom.cluster?.publicUrl() ?? '',
      pid: process.pid,
    };
    process.stdout.write(`READY ${JSON.stringify(ready)}\n`);
    let stopping = false;
    const stop = (): void => {
      if (stopping) return;
      stopping = true;
      node.close().then(
        () => process.exit(0),
        (err: unknown) => {
          process.stderr.write(`netloom node ${ready.nodeId}: shutdown failed: ${String(err)}\n`);
          process.exit(1);
        },
      );
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  } catch (err) {
    const code = err instanceof NetloomError ? err.code : 'internal_error';
    const message = err instanceof Error ? err.message : String(err);
    process.stdout.write(`FAILED ${JSON.stringify({ code, message })}\n`);
    process.stderr.write(`netloom node ${env?.nodeId ?? process.pid}: ${code}: ${message}\n`);
    process.exit(1);
  }
}

/**
 * Resolves once `nodeId` is in the cluster registry. `app.listen()` resolves before the node has
 * registered (that runs in Fastify's onListen hooks, after listen), and until then placement on
 * other nodes does not see it. Throws `driver_unavailable` after `timeoutMs`.
 */
async function registered(app: FastifyInstance, nodeId: string, timeoutMs: number): Promise<void> {
  const cluster = app.netloom.cluster;
  if (!cluster) return;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const nodes = await cluster.nodes().catch(() => []);
    if (nodes.some((n) => n.id === nodeId)) return;
    if (Date.now() > deadline) {
      throw new NetloomError('driver_unavailable', `node ${nodeId} not registered after ${timeoutMs} ms`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The arena demo as one cluster node: the demo page and the Arena room, on the cluster's Redis. */
async function startArenaNode(env: NodeEnv, driver: Driver): Promise<StartedNode> {
  const demo = await startDemo({
    port: env.port,
    host: env.host,
    driver,
    seatSecret: env.seatSecret,
    nodeId: env.nodeId,
    cluster: env.cluster,
    webtransport: env.webtransport,
    webtransportPort: env.webtransportPort,
  });
  return {
    app: demo.server,
    close: async () => {
      await demo.server.netloom.shutdown();
    },
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  void runNode(startArenaNode);
}
