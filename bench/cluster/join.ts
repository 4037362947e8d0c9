// Cluster join latency: joinOrCreate through a random node of three, timed from the HTTP request to the first state.
import { resolve } from 'node:path';
import WebSocket from 'ws';
import { startRedisServer } from '../../demos/cluster/redis.js';
import { Client, type WebSocketConstructor } from '../../src/client/index.js';
import { arenaProtocol } from '../arena/protocol.js';
import { mulberry32 } from '../arena/workload.js';
import { JsonProc, percentile, ROOT, round } from '../procs.js';

export interface JoinBenchParams {
  /** Joins in all (default 300). */
  JOINS: number;
  /** Joins in flight at once (default 4). */
  CONCURRENCY: number;
  /** Nodes (default 3). */
  NODES: number;
  P: number;
  SEED: number;
}

/**
 * Starts Redis and NODES bench nodes, then makes JOINS clients, each with a random node as its
 * control-plane base, call `joinOrCreate('arena')` (clients stay, so later joins find seats in rooms
 * on other nodes and are routed there). Per join: `joined_ms` from the HTTP request to the joined
 * room, `first_state_ms` to its first `state` (rooms tick at 30 Hz, so this adds up to ~33 ms).
 */
export async function joinBench(params: JoinBenchParams): Promise<Record<string, unknown>> {
  const redis = await startRedisServer();
  const nodes: JsonProc[] = [];
  const clients: Client[] = [];
  try {
    for (let i = 0; i < params.NODES; i++) {
      nodes.push(
        JsonProc.start(resolve(ROOT, 'bench/cluster/arena-node.ts'), {
          REDIS_URL: redis.url,
          NODE_ID: `n${i + 1}`,
          P: String(params.P),
          HEARTBEAT_MS: '250',
          AUTO_DISPOSE: '1',
        }),
      );
    }
    const urls = await Promise.all(
      nodes.map(async (n) => String((await n.next('node start', (m) => 'url' in m, 30_000)).url)),
    );
    const random = mulberry32(params.SEED);
    const joined: number[] = [];
    const firstState: number[] = [];
    let crossNode = 0;
    let errors = 0;
    let next = 0;
    const one = async (): Promise<void> => {
      const base = urls[Math.floor(random() * urls.length)];
      const client = new Client(base, {
        WebSocket: WebSocket as unknown as WebSocketConstructor,
        transports: ['websocket'],
      });
      clients.push(client);
      const started = performance.now();
      const room = await client.joinOrCreate('arena', {}, { protocol: arenaProtocol });
      joined.push(performance.now() - started);
      await new Promise<void>((done) => {
        const off = room.on('state', () => {
          off();
          done();
        });
      });
      firstState.push(performance.now() - started);
      const owner = (await fetch(`${base}/netloom/rooms/${room.id}`).then((r) => r.json())) as {
        nodeId: string;
      };
      if (owner.nodeId !== `n${urls.indexOf(base) + 1}`) crossNode++;
    };
    const worker = async (): Promise<void> => {
      while (next < params.JOINS) {
        next++;
        await one().catch(() => {
          errors++;
        });
      }
    };
    await Promise.all(Array.from({ length: params.CONCURRENCY }, worker));
    const j = Float64Array.from(joined).sort();
    const f = Float64Array.from(firstState).sort();
    return {
      bench: 'cluster-join',
      nodes: params.NODES,
      joins: joined.length,
      errors,
      cross_node_share: round(crossNode / Math.max(1, joined.length)),
      joined_p50_ms: round(percentile(j, 50), 2),
      joined_p99_ms: round(percentile(j, 99), 2),
      first_state_p50_ms: round(percentile(f, 50), 2),
      first_state_p99_ms: round(percentile(f, 99), 2),
      first_state_max_ms: round(f.length ? f[f.length - 1] : Number.NaN, 2),
      concurrency: params.CONCURRENCY,
      P: params.P,
      date: new Date().toISOString(),
    };
  } finally {
    for (const c of clients) c.close();
    await Promise.all(nodes.map((n) => n.stop()));
    await redis.stop();
  }
}
