// Concurrency over real HTTP and WebSockets: the last seats go to exactly maxClients; joinOrCreate never over-creates.
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import type { Client } from '../../src/client/index.js';
import { NetloomError } from '../../src/codec/errors.js';
import { createServer } from '../../src/server/index.js';
import { createEchoRoom, echoProtocol, newEchoLog } from '../helpers/echo-room.js';
import { nodeClient } from '../helpers/netloom.js';

let app: FastifyInstance | null = null;
let url = '';
const clients: Client[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await app?.close();
  app = null;
});

async function start(maxClients: number) {
  app = await createServer({
    rooms: { echo: createEchoRoom(newEchoLog(), { maxClients }) },
    joinRatePerIp: false,
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  return app.netloom;
}

function client(): Client {
  const c = nodeClient(url);
  clients.push(c);
  return c;
}

async function post(path: string, body: unknown) {
  const response = await fetch(`${url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as { roomId?: string; code?: string } };
}

describe('concurrent joins', () => {
  it('many clients race for the last seats of a room: exactly maxClients are seated', async () => {
    const api = await start(8);
    const first = await client().joinOrCreate('echo', {}, { protocol: echoProtocol });
    const second = await client().joinOrCreate('echo', {}, { protocol: echoProtocol });
    expect(second.id).toBe(first.id);
    // 6 seats left; 30 clients ask for them at once, each over HTTP then a WebSocket.
    const outcomes = await Promise.all(
      Array.from({ length: 30 }, () =>
        client()
          .joinById(first.id, {}, { protocol: echoProtocol })
          .then(
            (room) => room.id,
            (err: unknown) => (err instanceof NetloomError ? err.code : 'unexpected'),
          ),
      ),
    );
    expect(outcomes.filter((o) => o === first.id)).toHaveLength(6);
    expect(outcomes.filter((o) => o === 'room_full')).toHaveLength(24);
    expect(await api.rooms.get(first.id)).toMatchObject({ clients: 8, reserved: 0 });
  });

  it('concurrent joinOrCreate fills rooms before making new ones: 37 joins, rooms of 8 → 8,8,8,8,5', async () => {
    const api = await start(8);
    const replies = await Promise.all(
      Array.from({ length: 37 }, () => post('/netloom/rooms/echo/join-or-create', { joinData: {} })),
    );
    expect(replies.every((r) => r.status === 200)).toBe(true);
    const perRoom = new Map<string, number>();
    for (const r of replies) perRoom.set(r.body.roomId ?? '', (perRoom.get(r.body.roomId ?? '') ?? 0) + 1);
    expect([...perRoom.values()].sort((a, b) => b - a)).toEqual([8, 8, 8, 8, 5]);
    const listed = await api.rooms.list({ type: 'echo' });
    expect(listed.map((r) => r.reserved).sort((a, b) => b - a)).toEqual([8, 8, 8, 8, 5]);
  });

  it('with tag filters, concurrent joinOrCreate makes rooms per tag set and never two for one free slot', async () => {
    const api = await start(4);
    const modes = Array.from({ length: 30 }, (_, i) => (i % 3 === 0 ? 'duel' : 'ffa')); // 10 duel, 20 ffa
    const replies = await Promise.all(
      modes.map((mode) => post('/netloom/rooms/echo/join-or-create', { tags: { mode } })),
    );
    expect(replies.every((r) => r.status === 200)).toBe(true);
    const rooms = await api.rooms.list({ type: 'echo' });
    const count = (mode: string) =>
      rooms
        .filter((r) => r.tags.mode === mode)
        .map((r) => r.reserved)
        .sort((a, b) => b - a);
    expect(count('duel')).toEqual([4, 4, 2]);
    expect(count('ffa')).toEqual([4, 4, 4, 4, 4]);
    for (const [i, reply] of replies.entries()) {
      expect((await api.rooms.get(reply.body.roomId ?? ''))?.tags).toEqual({ mode: modes[i] });
    }
  });
});
