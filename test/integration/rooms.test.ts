// Rooms end to end over real WebSockets: join, typed messages, broadcast, hooks, kick, leave, dispose.
import { afterEach, describe, expect, it } from 'vitest';
import type { Client } from '../../src/client/index.js';
import { NetloomError } from '../../src/codec/errors.js';
import { defineProtocol, p } from '../../src/codec/index.js';
import { echoProtocol } from '../helpers/echo-room.js';
import { nodeClient, startEchoServer, type TestServer, until } from '../helpers/netloom.js';

let server: TestServer | null = null;
const clients: Client[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await server?.close();
  server = null;
});

function client(): Client {
  if (!server) throw new Error('no server');
  const c = nodeClient(server.url);
  clients.push(c);
  return c;
}

describe('rooms over WebSocket', () => {
  it('joins, receives the onJoin message, and echoes typed messages in order', async () => {
    server = await startEchoServer();
    const room = await client().joinOrCreate('echo', { name: 'ann' }, { protocol: echoProtocol });
    const hello: Array<{ clientId: string; members: number }> = [];
    room.on('hello', (m) => hello.push(m));
    const said: number[] = [];
    room.on('said', (m) => said.push(m.n));
    for (let n = 1; n <= 500; n++) room.send('say', { n, text: `message ${n}` });
    await until(() => said.length === 500, 5_000, '500 echoes');
    expect(hello).toEqual([{ clientId: room.clientId, members: 1 }]);
    expect(said).toEqual(Array.from({ length: 500 }, (_, i) => i + 1));
    expect(room.transport).toBe('websocket');
    expect(room.stats().bytesIn.reliable).toBeGreaterThan(0);
  });

  it('puts two clients in the same room and broadcasts to both', async () => {
    server = await startEchoServer();
    const a = await client().joinOrCreate('echo', { name: 'a' }, { protocol: echoProtocol });
    const b = await client().joinOrCreate('echo', { name: 'b' }, { protocol: echoProtocol });
    expect(b.id).toBe(a.id);
    const seenByB: string[] = [];
    b.on('said', (m) => seenByB.push(`${m.from}:${m.n}`));
    a.send('say', { n: 1, text: 'hi' });
    await until(() => seenByB.length === 1);
    expect(seenByB).toEqual([`${a.clientId}:1`]);
  });

  it('carries two room memberships on one session', async () => {
    server = await startEchoServer({ maxClients: 1 });
    const c = client();
    const first = await c.joinOrCreate('echo', { name: 'a' }, { protocol: echoProtocol });
    const second = await c.joinOrCreate('echo', { name: 'a' }, { protocol: echoProtocol });
    expect(second.id).not.toBe(first.id); // maxClients 1: a second room was made
    expect(server.app.netloom.sessions.count()).toBe(1);
    const got: string[] = [];
    first.on('said', (m) => got.push(`first:${m.n}`));
    second.on('said', (m) => got.push(`second:${m.n}`));
    first.send('say', { n: 1, text: '' });
    second.send('say', { n: 2, text: '' });
    await until(() => got.length === 2);
    expect(got.sort()).toEqual(['first:1', 'second:2']);
  });

  it('refuses a join that onAuth refuses, with auth_refused', async () => {
    server = await startEchoServer();
    await expect(
      client().joinOrCreate('echo', { name: 'mallory' }, { protocol: echoProtocol }),
    ).rejects.toMatchObject({
      code: 'auth_refused',
    });
  });

  it('refuses an unknown room type with room_type_unknown', async () => {
    server = await startEchoServer();
    const err = await client()
      .joinOrCreate('nope', {}, { protocol: echoProtocol })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NetloomError);
    expect((err as NetloomError).code).toBe('room_type_unknown');
  });

  it('survives a throwing onTick: the error is counted and ticks go on', async () => {
    server = await startEchoServer({ tickRate: 60 });
    const room = await client().joinOrCreate('echo', {}, { protocol: echoProtocol });
    const ticks: number[] = [];
    room.on('tick', (m) => ticks.push(m.tick));
    await until(() => ticks.some((t) => t > 6), 5_000, 'ticks past the failure');
    expect(server.app.netloom.metrics()['hook_errors{onTick}']).toBe(1);
    expect(ticks).not.toContain(3);
  });

  it('kicks a client: it gets leave with code kicked and the room sees reason kicked', async () => {
    server = await startEchoServer();
    const room = await client().joinOrCreate('echo', {}, { protocol: echoProtocol });
    const left: Array<{ code: string }> = [];
    room.on('leave', (e) => left.push(e));
    room.send('kickme', {});
    await until(() => left.length === 1);
    expect(left[0].code).toBe('kicked');
    expect(server.log.leaves).toEqual([{ id: room.clientId, reason: 'kicked' }]);
  });

  it('a consented leave skips the reconnection window and disposes the empty room', async () => {
    server = await startEchoServer();
    const room = await client().joinOrCreate('echo', {}, { protocol: echoProtocol });
    await room.leave();
    await until(() => server?.log.disposed === 1);
    expect(server.log.leaves).toEqual([{ id: room.clientId, reason: 'consented' }]);
    expect(server.log.drops).toEqual([]);
    expect(await server.app.netloom.rooms.list({ type: 'echo' })).toEqual([]);
  });

  it('never seats more than maxClients under concurrent joins', async () => {
    server = await startEchoServer({ maxClients: 4 });
    const rooms = await Promise.all(
      Array.from({ length: 10 }, () => client().joinOrCreate('echo', {}, { protocol: echoProtocol })),
    );
    const perRoom = new Map<string, number>();
    for (const r of rooms) perRoom.set(r.id, (perRoom.get(r.id) ?? 0) + 1);
    expect([...perRoom.values()].sort()).toEqual([2, 4, 4]);
  });
});

describe('client join options', () => {
  it('joins a room by id and takes a seat reserved by the backend', async () => {
    server = await startEchoServer();
    const first = await client().joinOrCreate('echo', {}, { protocol: echoProtocol });
    const byId = await client().joinById(first.id, {}, { protocol: echoProtocol });
    expect(byId.id).toBe(first.id);
    const ticket = await server.app.netloom.seats.reserve(first.id, { joinData: { name: 'bob' } });
    const seated = await client().join(ticket, { protocol: echoProtocol });
    expect(seated.id).toBe(first.id);
    expect(new Set([first.clientId, byId.clientId, seated.clientId]).size).toBe(3);
    await expect(client().joinById('no-such-room', {}, { protocol: echoProtocol })).rejects.toMatchObject({
      code: 'room_not_found',
    });
  });

  it('refuses a client whose protocol differs from the room’s with protocol_mismatch', async () => {
    server = await startEchoServer();
    const other = defineProtocol({ client: { say: p.object({ n: p.varuint() }) }, server: {} });
    await expect(client().joinOrCreate('echo', {}, { protocol: other })).rejects.toMatchObject({
      code: 'protocol_mismatch',
    });
    await until(() => server?.log.leaves.length === 1);
    expect(server.log.leaves[0].reason).toBe('consented');
  });

  it('refuses a protocol whose server messages use a reserved room event name', async () => {
    server = await startEchoServer();
    const clashing = defineProtocol({ client: {}, server: { leave: p.object({}) } });
    await expect(client().joinOrCreate('echo', {}, { protocol: clashing })).rejects.toMatchObject({
      code: 'protocol_invalid',
    });
    expect(await server.app.netloom.rooms.list({ type: 'echo' })).toEqual([]); // refused before any seat was taken
  });
});
