// Cluster CPU overhead: the arena workload (bench/arena's load generator) on one lone node, one cluster node, two.
import { resolve } from 'node:path';
import { type RedisServer, startRedisServer } from '../../demos/cluster/redis.js';
import { JOIN_TIMEOUT_MS, joinPhaseMs } from '../arena/bench-client.js';
import { machineBusySeconds, processCpu } from '../arena/proc.js';
import { type ArenaParams, roomCount, TICK_HZ } from '../arena/workload.js';
import { JsonProc, ROOT, round } from '../procs.js';

/** One layout of the same C clients: `memory` is a lone node without Redis; `redis` nodes form a cluster. */
export interface Layout {
  name: string;
  driver: 'memory' | 'redis';
  nodes: number;
}

export const LAYOUTS: Layout[] = [
  { name: 'single', driver: 'memory', nodes: 1 },
  { name: 'cluster1', driver: 'redis', nodes: 1 },
  { name: 'cluster2', driver: 'redis', nodes: 2 },
];

const cpuOf = (pid: number): number => {
  const c = processCpu(pid);
  return c.user + c.kernel;
};

/**
 * Runs C arena clients against one layout: ceil(C / P) rooms split evenly over the nodes (each node
 * makes its share, pinned to itself by its tag), the load generator joining every client through
 * node 1 (rooms on node 2 are reached by routed seats). Server CPU is the sum over the node
 * processes during the measured window; Redis CPU is reported apart.
 */
export async function arenaLayout(layout: Layout, params: ArenaParams): Promise<Record<string, unknown>> {
  const redis: RedisServer | undefined = layout.driver === 'redis' ? await startRedisServer() : undefined;
  const nodes: JsonProc[] = [];
  let loadgen: JsonProc | undefined;
  try {
    const rooms = roomCount(params.C, params.P);
    for (let i = 0; i < layout.nodes; i++) {
      const share = Math.floor(rooms / layout.nodes) + (i < rooms % layout.nodes ? 1 : 0);
      nodes.push(
        JsonProc.start(
          resolve(ROOT, 'bench/cluster/arena-node.ts'),
          {
            ...(redis ? { REDIS_URL: redis.url } : {}),
            NODE_ID: `n${i + 1}`,
            ROOMS: String(share),
            P: String(params.P),
          },
          0,
        ),
      );
    }
    const started = await Promise.all(nodes.map((n) => n.next('node start', (m) => 'port' in m, 30_000)));
    const roomIds = started.flatMap((s) => s.rooms as string[]);
    loadgen = JsonProc.start(
      resolve(ROOT, 'bench/arena/loadgen.ts'),
      {
        SYSTEM: 'netloom',
        PORT: String(started[0].port),
        ROOM_IDS: roomIds.join(','),
        C: String(params.C),
        P: String(params.P),
        SECONDS: String(params.SECONDS),
        WARMUP: String(params.WARMUP),
        GRACE: String(params.GRACE),
        SEED: String(params.SEED),
        TRANSPORT: 'websocket',
      },
      1,
    );
    const joined = await loadgen.next(
      'joins',
      (m) => m.event === 'joined',
      joinPhaseMs(params.C) + JOIN_TIMEOUT_MS + 10_000,
    );
    await loadgen.next('warmup', (m) => m.event === 'window-start', params.WARMUP * 1000 + 10_000);
    const sample = () => ({
      at: performance.now(),
      nodes: nodes.map((n) => cpuOf(n.pid)),
      redis: redis ? cpuOf(redis.pid) : 0,
      loadgen: cpuOf(loadgen?.pid ?? 0),
      machine: machineBusySeconds(),
    });
    const before = sample();
    await loadgen.next('window', (m) => m.event === 'window-end', params.SECONDS * 1000 + 10_000);
    const after = sample();
    const result = await loadgen.next('result', (m) => m.event === 'result', params.GRACE * 1000 + 10_000);
    const wall = (after.at - before.at) / 1000;
    const perNode = after.nodes.map((v, i) => (v - before.nodes[i]) / wall);
    const server = perNode.reduce((a, b) => a + b, 0);
    const connected = Number(result.clients_connected);
    return {
      layout: layout.name,
      nodes: layout.nodes,
      driver: layout.driver,
      clients_connected: connected,
      join_errors: joined.errors,
      server_cpu: round(server),
      server_cpu_per_node: perNode.map((v) => round(v)),
      /** CPU milliseconds per second of wall time per connected client, all nodes together. */
      server_cpu_ms_per_client_s: round((server * 1000) / Math.max(1, connected), 4),
      /**
       * CPU microseconds per state message delivered: fair when a starved server skips ticks (then
       * its CPU per client looks low because it did less work).
       */
      server_cpu_us_per_state: round(
        (server * 1e6) / Math.max(1, connected * TICK_HZ * Number(result.tick_fraction_mean)),
        3,
      ),
      redis_cpu: round((after.redis - before.redis) / wall),
      loadgen_cpu: round((after.loadgen - before.loadgen) / wall),
      other_cpu: round(
        Math.max(
          0,
          (after.machine - before.machine) / wall -
            server -
            (after.redis - before.redis) / wall -
            (after.loadgen - before.loadgen) / wall,
        ),
      ),
      lat_p50_ms: result.lat_p50_ms,
      lat_p99_ms: result.lat_p99_ms,
      tick_fraction_mean: result.tick_fraction_mean,
    };
  } finally {
    await loadgen?.stop();
    await Promise.all(nodes.map((n) => n.stop()));
    await redis?.stop();
  }
}
