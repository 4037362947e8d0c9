// One node of the cluster benchmarks: the arena bench workload as a netloom room, on Redis (a cluster node) or in memory.
// Env: REDIS_URL (absent: memoryDriver, a lone node), NODE_ID, ROOMS (rooms to make here, pinned by the node's tag),
// P, HEARTBEAT_MS. Prints one JSON line {port, url, nodeId, rooms, pid} once listening; exits at once on SIGTERM.
import {
  createServer,
  type Driver,
  defineRoom,
  memoryDriver,
  type RoomClient,
  redisDriver,
} from '../../src/server/index.js';
import { arenaProtocol } from '../arena/protocol.js';
import {
  readParams,
  receiveInput,
  type SimPlayer,
  spawnPlayer,
  stepPlayer,
  TICK_HZ,
} from '../arena/workload.js';

const SEAT_SECRET = 'bench-cluster-seat-secret-0123456789';
const UNRELIABLE = { reliable: false };
const params = readParams();
const nodeId = process.env.NODE_ID ?? `bench-${process.pid}`;
let nextId = 1;

interface ArenaData {
  /** Players in join order, stepped and sent every tick; `seats` pairs each with its client. */
  players: SimPlayer[];
  seats: Array<{ client: RoomClient<SimPlayer | undefined>; player: SimPlayer }>;
}

/** The arena bench's simulation: step every player each tick, send each client {tick, ack, players}. */
const Arena = defineRoom<typeof arenaProtocol, ArenaData, SimPlayer | undefined>({
  protocol: arenaProtocol,
  tickRate: TICK_HZ,
  maxClients: params.P,
  autoDispose: process.env.AUTO_DISPOSE === '1',
  data: () => ({ players: [], seats: [] }),
  onJoin(room, client) {
    const player = spawnPlayer(nextId++);
    client.data = player;
    room.data.players.push(player);
    room.data.seats.push({ client, player });
  },
  messages: {
    input(_room, client, msg) {
      if (client.data) receiveInput(client.data, msg.seq, msg.dx, msg.dy);
    },
  },
  onTick(room) {
    const { players, seats } = room.data;
    for (const player of players) stepPlayer(player);
    const message = { tick: room.tick, ack: 0, players };
    for (const seat of seats) {
      message.ack = seat.player.ack;
      room.send(seat.client, 'state', message, UNRELIABLE);
    }
  },
  onDrop(room, client) {
    room.allowReconnection(client, 0);
  },
  onLeave(room, client) {
    const player = client.data;
    if (!player) return;
    client.data = undefined;
    room.data.players.splice(room.data.players.indexOf(player), 1);
    room.data.seats.splice(
      room.data.seats.findIndex((s) => s.player === player),
      1,
    );
  },
});

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
