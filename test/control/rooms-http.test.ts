// The rooms API over HTTP and the SDK: create with tags/data/private, list and filter, get, lock, destroy, limits.
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import type { Client } from '../../src/client/index.js';
import { NetloomError } from '../../src/codec/errors.js';
import { type CreateServerOptions, createServer, defineRoom, type Room } from '../../src/server/index.js';
import { createEchoRoom, echoProtocol, newEchoLog } from '../helpers/echo-room.js';
import { nodeClient, until } from '../helpers/netloom.js';

let app: FastifyInstance | null = null;
let url = '';
const clients: Client[] = [];
/** Room handles of the `keeper` room type, as its code sees them. */
let keepers: Array<Room<typeof echoProtocol>> = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await app?.close();
  app = null;
  keepers = [];
});

async function start(options: Partial<CreateServerOptions> = {}) {
  const keeper = defineRoom({
    protocol: echoProtocol,
    maxClients: 4,
    autoDispose: false,
    onCreate(room) {
      keepers.push(room);
    },
  });
  app = await createServer({
    rooms: { echo: createEchoRoom(newEchoLog(), { maxClients: 2 }), keeper },
    ...options,
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

async function http(method: string, path: string, body?: unknown) {
  const response = await fetch(`${url}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : null };
}

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'ok';
  } catch (err) {
    if (err instanceof NetloomError) return err.code;
    throw err;
  }
}

describe('rooms API over HTTP', () => {
  it('client.create makes a room with tags and data and joins it; lists show counts and filter by tags', async () => {
    await start();
    const duel = await client().create(
      'echo',
      { name: 'ann' },
      {
        protocol: echoProtocol,
        tags: { mode: 'duel', region: 'eu' },
        data: { map: 'dust' },
      },
    );
    const ffa = await client().create('echo', {}, { protocol: echoProtocol, tags: { mode: 'ffa' } });
    const hidden = await client().create('echo', {}, { protocol: echoProtocol, private: true });
    expect(new Set([duel.id, ffa.id, hidden.id]).size).toBe(3);

    const all = await client().getAvailableRooms('echo');
    expect(all.map((r) => r.id)).toEqual([duel.id, ffa.id]);
    expect(all[0]).toMatchObject({
      type: 'echo',
      clients: 1,
      reserved: 0,
      maxClients: 2,
      locked: false,
      private: false,
      tags: { mode: 'duel', region: 'eu' },
      data: { map: 'dust' },
    });
    expect((await client().getAvailableRooms('echo', { mode: 'duel' })).map((r) => r.id)).toEqual([duel.id]);
    expect((await client().getAvailableRooms(undefined, { mode: 'ffa' })).map((r) => r.id)).toEqual([ffa.id]);
    expect(await client().getAvailableRooms('echo', { mode: 'duel', region: 'us' })).toEqual([]);
    expect(await client().getAvailableRooms('keeper')).toEqual([]);

    // The private room is reachable by id, and joinable by id.
    expect(await http('GET', `/netloom/rooms/${hidden.id}`)).toMatchObject({
      status: 200,
      body: { id: hidden.id, private: true, clients: 1 },
    });
    expect((await client().joinById(hidden.id, {}, { protocol: echoProtocol })).id).toBe(hidden.id);
    expect(await http('GET', '/netloom/rooms/no-such-room')).toMatchObject({
      status: 404,
      body: { code: 'room_not_found' },
    });
  });

  it('joinOrCreate with tags joins only matching rooms, creates tagged rooms, and skips private ones', async () => {
    const api = await start();
    const a = await client().joinOrCreate('echo', {}, { protocol: echoProtocol, tags: { mode: 'duel' } });
    const b = await client().joinOrCreate('echo', {}, { protocol: echoProtocol, tags: { mode: 'ffa' } });
    expect(b.id).not.toBe(a.id);
    const c = await client().joinOrCreate('echo', {}, { protocol: echoProtocol, tags: { mode: 'duel' } });
    expect(c.id).toBe(a.id); // a had the free seat
    const d = await client().joinOrCreate('echo', {}, { protocol: echoProtocol }); // no filter: oldest with space
    expect(d.id).toBe(b.id);
    expect((await api.rooms.get(a.id))?.tags).toEqual({ mode: 'duel' });
    const hidden = await api.rooms.create('echo', { tags: { mode: 'solo' }, private: true });
    const e = await client().joinOrCreate('echo', {}, { protocol: echoProtocol, tags: { mode: 'solo' } });
    expect(e.id).not.toBe(hidden.id);
  });

  it('POST /rooms answers 201 with a seat ticket and the room; a refused creator leaves no room', async () => {
    const api = await start();
    const created = await http('POST', '/netloom/rooms', { type: 'echo', tags: { k: 'v' }, joinData: {} });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      roomType: 'echo',
      transports: { websocket: '/netloom/ws' },
      room: { type: 'echo', reserved: 1, tags: { k: 'v' } },
    });
    expect(typeof created.body?.seat).toBe('string');
    const refused = await http('POST', '/netloom/rooms', { type: 'echo', joinData: { name: 'mallory' } });
    expect(refused).toMatchObject({ status: 403, body: { code: 'auth_refused' } });
    expect((await api.rooms.list({ type: 'echo' })).length).toBe(1);
    expect(await http('POST', '/netloom/rooms', { type: 'nope' })).toMatchObject({
      status: 404,
      body: { code: 'room_type_unknown' },
    });
  });

  it('locked rooms stay listed with locked: true and take no seats; room code can lock and hide its room', async () => {
    const api = await start();
    const record = await api.rooms.create('keeper', { tags: { lobby: 'main' } });
    const room = keepers[0];
    expect(room.tags).toEqual({ lobby: 'main' });
    await room.lock();
    expect((await api.rooms.list({ type: 'keeper' }))[0]).toMatchObject({ id: record.id, locked: true });
    expect(await codeOf(client().joinById(record.id, {}, { protocol: echoProtocol }))).toBe('room_locked');
    const other = await client().joinOrCreate('keeper', {}, { protocol: echoProtocol });
    expect(other.id).not.toBe(record.id); // joinOrCreate skipped the locked room
    await room.unlock();
    expect((await client().joinById(record.id, {}, { protocol: echoProtocol })).id).toBe(record.id);
    await room.setPrivate(true);
    expect((await api.rooms.list({ type: 'keeper' })).map((r) => r.id)).toEqual([other.id]);
    await room.setPrivate(false);
    expect((await api.rooms.list({ type: 'keeper' })).map((r) => r.id)).toEqual([record.id, other.id]);
  });

  it('the SDK locks, unlocks, hides and destroys rooms; destroyed rooms tell clients room_disposed', async () => {
    const api = await start();
    const room = await client().joinOrCreate('keeper', {}, { protocol: echoProtocol });
    const left: string[] = [];
    room.on('leave', (e) => left.push(e.code));
    expect(await api.rooms.lock(room.id)).toMatchObject({ locked: true });
    expect(await codeOf(api.seats.reserve(room.id))).toBe('room_locked');
    expect(await api.rooms.unlock(room.id)).toMatchObject({ locked: false });
    expect(await api.rooms.setPrivate(room.id, true)).toMatchObject({ private: true });
    expect(await api.rooms.list()).toEqual([]);
    await api.rooms.destroy(room.id);
    await until(() => left.length === 1, 5_000, 'leave');
    expect(left).toEqual(['room_disposed']);
    expect(await api.rooms.get(room.id)).toBeNull();
    expect(await codeOf(api.rooms.destroy(room.id))).toBe('room_not_found');
    expect(await codeOf(api.rooms.lock(room.id))).toBe('room_not_found');
    expect(await codeOf(api.rooms.setPrivate('nope', true))).toBe('room_not_found');
  });

  it('refuses rooms past maxRoomsPerType with room_limit (HTTP 429), counting private rooms', async () => {
    const api = await start({ maxRoomsPerType: 2 });
    await api.rooms.create('keeper', { private: true });
    await api.rooms.create('keeper');
    expect(await codeOf(api.rooms.create('keeper'))).toBe('room_limit');
    expect(await http('POST', '/netloom/rooms', { type: 'keeper' })).toMatchObject({
      status: 429,
      body: { code: 'room_limit' },
    });
    // joinOrCreate cannot make a third room either (both are unjoinable: one private, one filtered out)
    expect(await http('POST', '/netloom/rooms/keeper/join-or-create', { tags: { x: 'y' } })).toMatchObject({
      status: 429,
      body: { code: 'room_limit' },
    });
    expect(await api.rooms.create('echo')).toMatchObject({ type: 'echo' }); // per type
  });

  it('refuses bad tags and data from the SDK with request_invalid', async () => {
    const api = await start({ roomMetadata: { maxTags: 2, maxDataBytes: 64 } });
    expect(await codeOf(api.rooms.create('echo', { tags: { a: '1', b: '2', c: '3' } }))).toBe(
      'request_invalid',
    );
    expect(await codeOf(api.rooms.create('echo', { tags: { a: 1 as never } }))).toBe('request_invalid');
    expect(await codeOf(api.rooms.create('echo', { data: { big: 'x'.repeat(100) } }))).toBe(
      'request_invalid',
    );
    expect(await codeOf(api.rooms.list({ tags: { a: '', b: '', c: '' } }))).toBe('request_invalid');
    expect(
      await http('POST', '/netloom/rooms', { type: 'echo', tags: { a: '1', b: '2', c: '3' } }),
    ).toMatchObject({
      status: 400,
      body: { code: 'request_invalid' },
    });
    expect(await api.rooms.list()).toEqual([]);
  });

  it('limits create and join requests per IP with rate_limited (429); false turns it off', async () => {
    await start({ joinRatePerIp: { perSecond: 0.001, burst: 3 }, now: () => 1_000_000 });
    const codes: number[] = [];
    for (let i = 0; i < 5; i++)
      codes.push((await http('POST', '/netloom/rooms/echo/join-or-create', {})).status);
    expect(codes).toEqual([200, 200, 200, 429, 429]);
    expect(await http('POST', '/netloom/rooms', { type: 'echo' })).toMatchObject({
      status: 429,
      body: { code: 'rate_limited' },
    });
    expect((await http('GET', '/netloom/rooms')).status).toBe(200); // lists are not join requests
    await app?.close();
    await start({ joinRatePerIp: false });
    for (let i = 0; i < 50; i++)
      expect((await http('POST', '/netloom/rooms/echo/join-or-create', {})).status).toBe(200);
  });

  it('validates strictly: extra properties, wrong types and bad querystrings are 400 request_invalid', async () => {
    await start();
    const bad: Array<[string, string, unknown]> = [
      ['POST', '/netloom/rooms/echo/join-or-create', { joinData: {}, extra: 1 }],
      ['POST', '/netloom/rooms/echo/join-or-create', { tags: { mode: 5 } }],
      ['POST', '/netloom/rooms/echo/join-or-create', { tags: ['a'] }],
      ['POST', '/netloom/rooms', { type: 'echo', private: 'true' }],
      ['POST', '/netloom/rooms', { type: 7 }],
      ['POST', '/netloom/rooms', {}],
      ['POST', '/netloom/rooms', []],
      ['GET', '/netloom/rooms?type=echo&type=keeper', undefined],
      ['GET', '/netloom/rooms?tags[a]=1&tags[a]=2', undefined],
      ['GET', '/netloom/rooms?colour=red', undefined],
      ['POST', '/netloom/rooms', { type: 'x'.repeat(101) }],
    ];
    for (const [method, path, body] of bad) {
      const res = await http(method, path, body);
      expect({ path, status: res.status, code: res.body?.code }).toEqual({
        path,
        status: 400,
        code: 'request_invalid',
      });
    }
    // Path params longer than Fastify's maxParamLength (100) are refused by its router: 414.
    expect((await http('GET', `/netloom/rooms/${'x'.repeat(200)}`)).status).toBe(414);
    const ok = await http('GET', '/netloom/rooms?type=echo&tags[mode]=duel');
    expect(ok).toEqual({ status: 200, body: { rooms: [] } });
  });
});
