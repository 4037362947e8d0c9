// A small room type used by integration tests: echoes reliable and unreliable messages and counts everything.
import { defineProtocol, p } from '../../src/codec/index.js';
import { defineRoom } from '../../src/server/index.js';

export const echoProtocol = defineProtocol({
  client: {
    say: p.object({ n: p.varuint(), text: p.string() }),
    blip: p.object({ n: p.varuint() }),
    kickme: p.object({}),
  },
  server: {
    said: p.object({ from: p.string(), n: p.varuint(), text: p.string() }),
    blipped: p.object({ n: p.varuint() }),
    hello: p.object({ clientId: p.string(), members: p.varuint() }),
    tick: p.object({ tick: p.varuint() }),
  },
});

export interface EchoLog {
  joins: string[];
  leaves: Array<{ id: string; reason: string }>;
  drops: string[];
  reconnects: string[];
  received: Map<string, number[]>;
  disposed: number;
}

export function createEchoRoom(
  log: EchoLog,
  options: { reconnectionMs?: number; tickRate?: number; maxClients?: number } = {},
) {
  return defineRoom({
    protocol: echoProtocol,
    maxClients: options.maxClients ?? 8,
    tickRate: options.tickRate ?? 0,
    reconnectionMs: options.reconnectionMs ?? 10_000,
    onAuth(_room, _client, joinData) {
      const name = (joinData as { name?: unknown } | undefined)?.name;
      if (name === 'mallory') return { ok: false, message: 'mallory is not welcome' };
      return { ok: true, data: { name: typeof name === 'string' ? name : 'anon' } };
    },
    onJoin(room, client) {
      log.joins.push(client.id);
      room.send(client, 'hello', { clientId: client.id, members: room.clients.size });
    },
    messages: {
      say(room, client, msg) {
        const seen = log.received.get(client.id) ?? [];
        seen.push(msg.n);
        log.received.set(client.id, seen);
        room.broadcast('said', { from: client.id, n: msg.n, text: msg.text });
      },
      blip(room, client, msg) {
        room.send(client, 'blipped', { n: msg.n }, { reliable: false });
      },
      kickme(room, client) {
        room.kick(client, 'asked for it');
      },
    },
    onTick(room) {
      if (room.tick === 3) throw new Error('deliberate tick failure');
      room.broadcast('tick', { tick: room.tick }, { reliable: false });
    },
    onDrop(room, client) {
      log.drops.push(client.id);
      room.allowReconnection(client, options.reconnectionMs ?? 10_000);
    },
    onReconnect(_room, client) {
      log.reconnects.push(client.id);
    },
    onLeave(_room, client, reason) {
      log.leaves.push({ id: client.id, reason });
    },
    onDispose() {
      log.disposed++;
    },
  });
}

export function newEchoLog(): EchoLog {
  return { joins: [], leaves: [], drops: [], reconnects: [], received: new Map(), disposed: 0 };
}
