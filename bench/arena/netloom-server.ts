// netloom side of the arena benchmark: the same simulation as the raw baseline, as a netloom room.
// The server makes ceil(C / P) rooms at start and prints their ids with its port; the load generator
// joins client i to room floor(i / P) by id. Each tick: step every player, then send each client {tick, ack, players} unreliably. The players
// array is the room's own SimPlayer list (no per-tick copy); the codec reads only id, x and y.
import { createServer, defineRoom, memoryDriver } from '../../src/server/index.js';
import { installWindowProfiler } from './profile.js';
import { arenaProtocol } from './protocol.js';
import {
  readParams,
  receiveInput,
  roomCount,
  type SimPlayer,
  spawnPlayer,
  stepPlayer,
  TICK_HZ,
} from './workload.js';

interface ArenaData {
  /** Players in join order: the list sent every tick. */
  players: SimPlayer[];
  /** client.id -> player */
  byClient: Map<string, SimPlayer>;
}

let nextId = 1;
const params = readParams();

const Arena = defineRoom({
  protocol: arenaProtocol,
  tickRate: TICK_HZ,
  maxClients: params.P,
  // Rooms are made up front (client i joins room floor(i / P)); keep them while empty.
  autoDispose: false,
  data: (): ArenaData => ({ players: [], byClient: new Map() }),
  onJoin(room, client) {
    const player = spawnPlayer(nextId++);
    room.data.players.push(player);
    room.data.byClient.set(client.id, player);
  },
  messages: {
    input(room, client, msg) {
      const player = room.data.byClient.get(client.id);
      if (player) receiveInput(player, msg.seq, msg.dx, msg.dy);
    },
  },
  onTick(room) {
    const { players, byClient } = room.data;
    for (let i = 0; i < players.length; i++) stepPlayer(players[i]);
    const tick = room.tick;
    for (const client of room.clients.values()) {
      const player = byClient.get(client.id);
      if (player) room.send(client, 'state', { tick, ack: player.ack, players }, { reliable: false });
    }
  },
  onDrop(room, client) {
    room.allowReconnection(client, 0);
  },
  onLeave(room, client) {
    const player = room.data.byClient.get(client.id);
    if (!player) return;
    room.data.byClient.delete(client.id);
    room.data.players.splice(room.data.players.indexOf(player), 1);
  },
});

const server = await createServer({ rooms: { arena: Arena }, driver: memoryDriver(), logger: false });
await server.listen({ port: 0, host: '127.0.0.1' });
const address = server.server.address();
if (address === null || typeof address === 'string') throw new Error('expected a TCP address');
const rooms: string[] = [];
for (let r = 0; r < roomCount(params.C, params.P); r++)
  rooms.push((await server.netloom.rooms.create('arena')).id);
process.stdout.write(`${JSON.stringify({ port: address.port, rooms })}\n`);

function shutdown(): void {
  // Exit at once (process.exit still lets --cpu-prof write its profile); a graceful close is not measured.
  process.exit(0);
}
installWindowProfiler();
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
