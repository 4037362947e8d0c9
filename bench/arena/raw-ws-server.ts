// The raw baseline of the arena benchmark: a plain `ws` server, JSON text, full snapshot every tick.
// Wire: a client's first text message is {"join": roomIndex}, answered by {"joined": playerId}; then
// inputs {"seq","dx","dy"}; each tick the server sends {"tick","players":[{id,x,y}...],"ack"}.
import { type WebSocket, WebSocketServer } from 'ws';
import { installWindowProfiler } from './profile.js';
import { startServerStats } from './server-stats.js';
import {
  fixedRateLoop,
  receiveInput,
  type SimPlayer,
  spawnPlayer,
  stepPlayer,
  TICK_HZ,
  TICK_MS,
} from './workload.js';

interface RawClient {
  socket: WebSocket;
  player: SimPlayer;
}

interface RawRoom {
  clients: RawClient[];
  players: SimPlayer[];
}

const rooms = new Map<number, RawRoom>();
let nextId = 1;

function leave(room: RawRoom, client: RawClient): void {
  const at = room.clients.indexOf(client);
  if (at >= 0) room.clients.splice(at, 1);
  const p = room.players.indexOf(client.player);
  if (p >= 0) room.players.splice(p, 1);
}

const wss = new WebSocketServer({
  host: '127.0.0.1',
  port: 0,
  perMessageDeflate: false,
  clientTracking: false,
});

wss.on('connection', (socket) => {
  let joined: { room: RawRoom; client: RawClient } | undefined;
  socket.on('message', (data, isBinary) => {
    if (isBinary) return;
    let msg: { join?: unknown; seq?: unknown; dx?: unknown; dy?: unknown };
    try {
      msg = JSON.parse(data.toString());
    } catch {
      return;
    }
    if (joined === undefined) {
      if (typeof msg.join !== 'number' || !Number.isInteger(msg.join) || msg.join < 0) {
        socket.close(1008, 'first message must be {"join": room}');
        return;
      }
      let room = rooms.get(msg.join);
      if (room === undefined) {
        room = { clients: [], players: [] };
        rooms.set(msg.join, room);
      }
      const client: RawClient = { socket, player: spawnPlayer(nextId++) };
      room.clients.push(client);
      room.players.push(client.player);
      joined = { room, client };
      socket.send(`{"joined":${client.player.id}}`);
      return;
    }
    if (typeof msg.seq === 'number' && typeof msg.dx === 'number' && typeof msg.dy === 'number') {
      receiveInput(joined.client.player, msg.seq, msg.dx, msg.dy);
    }
  });
  socket.on('close', () => {
    if (joined) leave(joined.room, joined.client);
  });
  socket.on('error', () => {});
});

const PLAYER_FIELDS = ['id', 'x', 'y'];

function tick(n: number): void {
  for (const room of rooms.values()) {
    const players = room.players;
    for (let i = 0; i < players.length; i++) stepPlayer(players[i]);
    // Serialise the players array once per room; splice each client's ack in.
    const head = `{"tick":${n},"players":${JSON.stringify(players, PLAYER_FIELDS)},"ack":`;
    const clients = room.clients;
    for (let i = 0; i < clients.length; i++) {
      const client = clients[i];
      if (client.socket.readyState === 1) client.socket.send(`${head}${client.player.ack}}`);
    }
  }
}

wss.on('listening', () => {
  const address = wss.address();
  if (address === null || typeof address === 'string') throw new Error('expected a TCP address');
  process.stdout.write(`${JSON.stringify({ port: address.port })}\n`);
});

let ticks = 0;
const startedAt = performance.now();
const readStats = startServerStats();
const stop = fixedRateLoop(TICK_MS, (n) => {
  ticks += 1;
  tick(n);
});

function shutdown(): void {
  stop();
  const due = Math.floor(((performance.now() - startedAt) / 1000) * TICK_HZ);
  process.stdout.write(
    `${JSON.stringify({ event: 'stats', ticks_due: due, ticks_run: ticks, ...readStats() })}\n`,
  );
  wss.close();
  // process.exit runs the exit path, so --cpu-prof still writes its profile.
  process.exit(0);
}
installWindowProfiler();
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
