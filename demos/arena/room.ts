// The Arena room: authoritative movement at 30 Hz, a roster of named players, and reliable "marks" echoed to all.
import { defineRoom, type Room } from '../../src/server/index.js';
import { MAX_NAME, protocol, TICK_RATE, validName, WORLD } from './protocol.js';

/** Units a player moves per tick at full stick (about a quarter of the arena per second). */
export const SPEED = 8;
/** An input keeps steering for this many ticks after it arrives, so one late or lost packet does not stutter. */
const INPUT_TICKS = 4;
/** How long a dropped player keeps their seat. */
export const RECONNECT_MS = 20_000;

interface Player {
  /** Small numeric id used on the wire (state, roster, marked). */
  id: number;
  name: string;
  x: number;
  y: number;
  /** Last input applied, and how many more ticks it steers. */
  dx: number;
  dy: number;
  ticksLeft: number;
  /** Highest input seq received; sent back as `ack`. */
  ack: number;
  online: boolean;
}

interface ArenaData {
  /** By netloom client id. */
  players: Map<string, Player>;
  nextId: number;
}

/** What onAuth keeps about a player (client.data). */
interface PlayerAuth {
  name: string;
}

type ArenaRoom = Room<typeof protocol, ArenaData, PlayerAuth>;

const clamp = (v: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, v));
/** NaN or ±Infinity from the network steer nowhere. */
const axis = (v: number): number => (Number.isFinite(v) ? clamp(v, -1, 1) : 0);

export const Arena = defineRoom<typeof protocol, ArenaData, PlayerAuth>({
  protocol,
  tickRate: TICK_RATE,
  maxClients: 16,
  data: () => ({ players: new Map(), nextId: 1 }),

  onAuth(_room, _client, joinData) {
    const name = validName((joinData as { name?: unknown } | null | undefined)?.name);
    if (name === null) {
      return { ok: false, code: 'auth_refused', message: `name must be 1-${MAX_NAME} printable characters` };
    }
    return { ok: true, data: { name } };
  },

  onJoin(room, client) {
    room.data.players.set(client.id, {
      id: room.data.nextId++,
      name: client.data.name,
      x: WORLD / 2,
      y: WORLD / 2,
      dx: 0,
      dy: 0,
      ticksLeft: 0,
      ack: 0,
      online: true,
    });
    sendRoster(room);
  },

  messages: {
    input(room, client, msg) {
      const player = room.data.players.get(client.id);
      // Unreliable inputs may arrive out of order; the session drops stale ones, this guards anyway.
      if (!player || msg.seq <= player.ack) return;
      player.ack = msg.seq;
      player.dx = axis(msg.dx);
      player.dy = axis(msg.dy);
      player.ticksLeft = INPUT_TICKS;
    },
    mark(room, client, msg) {
      const player = room.data.players.get(client.id);
      if (player) room.broadcast('marked', { id: player.id, n: msg.n }, { reliable: true });
    },
  },

  onTick(room) {
    const players = [];
    for (const player of room.data.players.values()) {
      if (player.ticksLeft > 0) {
        player.ticksLeft--;
        player.x = clamp(player.x + player.dx * SPEED, 0, WORLD);
        player.y = clamp(player.y + player.dy * SPEED, 0, WORLD);
      }
      players.push({ id: player.id, x: player.x, y: player.y });
    }
    const tick = room.tick;
    for (const [clientId, client] of room.clients) {
      const ack = room.data.players.get(clientId)?.ack ?? 0;
      room.send(client, 'state', { tick, ack, players }, { reliable: false });
    }
  },

  onDrop(room, client) {
    const player = room.data.players.get(client.id);
    if (player) {
      player.online = false;
      player.ticksLeft = 0;
    }
    room.allowReconnection(client, RECONNECT_MS);
    sendRoster(room);
  },

  onReconnect(room, client) {
    const player = room.data.players.get(client.id);
    if (player) player.online = true;
    sendRoster(room);
  },

  onLeave(room, client) {
    room.data.players.delete(client.id);
    sendRoster(room);
  },
});

/** Sends everyone the list of players (reliable), each copy naming its receiver in `you`. */
function sendRoster(room: ArenaRoom): void {
  const players = [...room.data.players.values()].map(({ id, name, online }) => ({ id, name, online }));
  for (const [clientId, client] of room.clients) {
    const you = room.data.players.get(clientId)?.id ?? 0;
    room.send(client, 'roster', { you, players }, { reliable: true });
  }
}
