// One node of the cluster benchmarks: the arena bench workload as a netloom room, on Redis (a cluster node) or in memory.
// Env: REDIS_URL (absent: memoryDriver, a lone node), NODE_ID, ROOMS (rooms to make here, pinned by the node's tag),
// P, HEARTBEAT_MS. Prints one JSON line {port, url, nodeId, rooms, pid} once listening; exits at once on SIGTERM.
import { createServer, type Driver, memoryDriver, redisDriver } from '../../src/server/index.js';
import { arenaRoom } from '../arena/arena-room.js';
import { readParams } from '../arena/workload.js';

const SEAT_SECRET = 'bench-cluster-seat-secret-0123456789';
const params = readParams();
const nodeId = process.env.NODE_ID ?? `bench-${process.pid}`;

/** The arena bench's simulation; its clients (join.ts, arena.ts) read per-client `state` messages. */
const Arena = arenaRoom({ P: params.P, state: 'per-client', autoDispose: process.env.AUTO_DISPOSE === '1' });

async function main(): Promise<void> {
  const redisUrl = process.env.REDIS_URL;
  const driver: Driver = redisUrl ? await redisDriver({ url: redisUrl, prefix: 'bench:' }) : memoryDriver();
  const heartbeatMs = Number(process.env.HEARTBEAT_MS ?? 1_000);
  const server = await createServer({
    rooms: { arena: Arena },
    driver,
    nodeId,
    seatSecret: SEAT_SECRET,
    logger: false,
    // Every bench client joins from loopback: the per-IP join rate limit would throttle the ramp-up.
    joinRatePerIp: false,
    cluster: { heartbeatMs, nodeTtlMs: heartbeatMs * 3, tags: { node: nodeId } },
  });
  await server.listen({ port: 0, host: '127.0.0.1' });
  const address = server.server.address();
  if (address === null || typeof address === 'string') throw new Error('expected a TCP address');
  const rooms: string[] = [];
  for (let r = 0; r < Number(process.env.ROOMS ?? 0); r++) {
    rooms.push((await server.netloom.rooms.create('arena', { tags: { node: nodeId } })).id);
  }
  const url = `http://127.0.0.1:${address.port}`;
  process.stdout.write(`${JSON.stringify({ port: address.port, url, nodeId, rooms, pid: process.pid })}\n`);
  process.on('SIGTERM', () => process.exit(0));
  process.on('SIGINT', () => process.exit(0));
}

main().catch((err: unknown) => {
  process.stdout.write(`${JSON.stringify({ event: 'error', message: String(err) })}\n`);
  process.exit(1);
});
