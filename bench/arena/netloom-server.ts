// netloom side of the arena benchmark: the same simulation as the raw baseline, as a netloom room.
// The server makes ceil(C / P) rooms at start and prints their ids with its port; the load generator
// joins client i to room floor(i / P) by id. Each tick: step every player, then send each client
// state unreliably. STATE=snapshot (default): one `snapshot` {tick, players: [{id, x, y, ack}]} per room
// by room.broadcast, encoded once, each client reading its own ack by its player id. STATE=per-client:
// each client its own `state` {tick, ack, players}, one message object reused with only `ack` changing
// (room.send encodes synchronously). Either way the players array is the room's own SimPlayer list (the
// codec reads only the fields the schema names).
import { createServer, defineRoom, memoryDriver, type RoomClient } from '../../src/server/index.js';
import { installWindowProfiler } from './profile.js';
import { arenaProtocol } from './protocol.js';
import { startServerStats } from './server-stats.js';
import {
  readParams,
  receiveInput,
  roomCount,
  type SimPlayer,
  spawnPlayer,
  stepPlayer,
  TICK_HZ,
} from './workload.js';

/** A seated client; its player also sits in `client.data` for the input handler. */
interface Seat {
  client: RoomClient<SimPlayer | undefined>;
  player: SimPlayer;
}

interface ArenaData {
  /** Players in join order: the list sent every tick. */
  players: SimPlayer[];
  seats: Seat[];
}

const UNRELIABLE = { reliable: false };
let nextId = 1;
/** Every room made, for the tick counts in the shutdown stats. */
const liveRooms: { readonly tick: number }[] = [];
const params = readParams();

const Arena = defineRoom<typeof arenaProtocol, ArenaData, SimPlayer | undefined>({
  protocol: arenaProtocol,
  tickRate: TICK_HZ,
  maxClients: params.P,
  // Rooms are made up front (client i joins room floor(i / P)); keep them while empty.
  autoDispose: false,
  data: () => ({ players: [], seats: [] }),
  onCreate(room) {
    liveRooms.push(room);
  },
  onJoin(room, client) {
    // The load generator names its player id in the join data (see playerIdOf in netloom-client.ts).
    const asked = (client.joinData as { player?: unknown } | undefined)?.player;
    const player = spawnPlayer(
      typeof asked === 'number' && Number.isInteger(asked) && asked > 0 ? asked : nextId++,
    );
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
    for (let i = 0; i < players.length; i++) stepPlayer(players[i]);
    if (params.STATE === 'snapshot') {
      // Encoded once for the room; each client finds its own ack by its player id.
      room.broadcast('snapshot', { tick: room.tick, players }, UNRELIABLE);
      return;
    }
    const message = { tick: room.tick, ack: 0, players };
    for (let i = 0; i < seats.length; i++) {
      const seat = seats[i];
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
    const { players, seats } = room.data;
    players.splice(players.indexOf(player), 1);
    seats.splice(
      seats.findIndex((s) => s.player === player),
      1,
    );
  },
});

// Every bench client joins from loopback: the per-IP join rate limit would throttle the ramp-up.
const server = await createServer({
  rooms: { arena: Arena },
  driver: memoryDriver(),
  logger: false,
  joinRatePerIp: false,
  // Over WebTransport the clients upgrade to this node's QUIC endpoint (loopback, any free UDP port).
  webtransport: { enabled: params.TRANSPORT === 'webtransport' },
});
await server.listen({ port: 0, host: '127.0.0.1' });
const address = server.server.address();
if (address === null || typeof address === 'string') throw new Error('expected a TCP address');
const rooms: string[] = [];
for (let r = 0; r < roomCount(params.C, params.P); r++)
  rooms.push((await server.netloom.rooms.create('arena')).id);
process.stdout.write(`${JSON.stringify({ port: address.port, rooms })}\n`);

const startedAt = performance.now();
const readStats = startServerStats();

function shutdown(): void {
  // Diagnostics for the runner's stderr: netloom's counters, and ticks run against ticks due.
  const due = Math.floor(((performance.now() - startedAt) / 1000) * TICK_HZ);
  const stats = {
    event: 'stats',
    ticks_due: due,
    ticks_min: Math.min(...liveRooms.map((r) => r.tick)),
    ...readStats(),
    metrics: server.netloom.metrics(),
  };
  process.stdout.write(`${JSON.stringify(stats)}\n`);
  // Exit at once (process.exit also lets a profiler finish); a graceful close is not measured.
  process.exit(0);
}
installWindowProfiler();
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
