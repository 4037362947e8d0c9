// Room key-value state over real WebSockets: changes reach clients, late joiners get snapshots, limits are refused.
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { Client, Room as ClientRoom, StateChangeEvent } from '../../src/client/index.js';
import { StateMirror } from '../../src/client/room-mirror.js';
import { NetloomError } from '../../src/codec/errors.js';
import { defineProtocol, p } from '../../src/codec/index.js';
import {
  createServer,
  defineRoom,
  type Json,
  type MemberPort,
  type Room,
  type RoomStateLimits,
} from '../../src/server/index.js';
import { RoomStateStore } from '../../src/server/rooms/room-state.js';
import { nodeClient, until } from '../helpers/netloom.js';

const protocol = defineProtocol({
  client: {
    set: p.object({ key: p.string(), json: p.string() }),
    del: p.object({ key: p.string() }),
    clear: p.object({}),
    /** Sets `key` to 1, 2, 3 in one turn, then broadcasts `note`. */
    burst: p.object({ key: p.string() }),
  },
  server: { note: p.object({ text: p.string() }), refused: p.object({ code: p.string() }) },
});

type ServerRoom = Room<typeof protocol, undefined, unknown>;

let app: Awaited<ReturnType<typeof createServer>> | null = null;
let url = '';
const rooms = new Map<string, ServerRoom>();
const clients: Client[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await app?.close();
  app = null;
  rooms.clear();
});

async function start(state?: Partial<RoomStateLimits>): Promise<void> {
  const board = defineRoom({
    protocol,
    maxClients: 8,
    reconnectionMs: 0,
    ...(state ? { state } : {}),
    onCreate(room) {
      rooms.set(room.id, room);
    },
    messages: {
      set(room, client, msg) {
        try {
          room.state.set(msg.key, JSON.parse(msg.json) as Json);
        } catch (err) {
          room.send(client, 'refused', { code: err instanceof NetloomError ? err.code : 'other' });
        }
      },
      del(room, _client, msg) {
        room.state.delete(msg.key);
      },
      clear(room) {
        room.state.clear();
      },
      burst(room, _client, msg) {
        room.state.set(msg.key, 1);
        room.state.set(msg.key, 2);
        room.state.set(msg.key, 3);
        room.state.set(`${msg.key}-temp`, 'gone soon');
        room.state.delete(`${msg.key}-temp`);
        room.broadcast('note', { text: `after ${msg.key}` });
      },
    },
  });
  app = await createServer({ rooms: { board } });
  await app.listen({ port: 0, host: '127.0.0.1' });
  url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
}

type Seen = Array<StateChangeEvent | { note: string }>;

async function join(): Promise<{ room: ClientRoom<typeof protocol>; seen: Seen }> {
  const c = nodeClient(url);
  clients.push(c);
  const room = await c.joinOrCreate('board', {}, { protocol });
  const seen: Seen = [];
  room.on('state-change', (e) => seen.push(e));
  room.on('note', (m) => seen.push({ note: m.text }));
  return { room, seen };
}

function serverRoom(id: string): ServerRoom {
  const room = rooms.get(id);
  if (!room) throw new Error('no server room');
  return room;
}

describe('room state', () => {
  it('reaches clients as state-change events with the previous value, and mirrors the state', async () => {
    await start();
    const a = await join();
    const b = await join();
    const room = serverRoom(a.room.id);
    room.state.set('score', { red: 1, blue: 0 });
    room.state.set('phase', 'warmup');
    await until(() => b.seen.length === 2, 5_000, 'two changes');
    expect(b.seen).toEqual([
      { key: 'score', value: { red: 1, blue: 0 }, previous: undefined, reset: false },
      { key: 'phase', value: 'warmup', previous: undefined, reset: false },
    ]);
    room.state.set('phase', 'live');
    room.state.delete('score');
    room.state.delete('never-set');
    await until(() => b.seen.length === 4, 5_000, 'update and delete');
    expect(b.seen.slice(2)).toEqual([
      { key: 'phase', value: 'live', previous: 'warmup', reset: false },
      { key: 'score', value: undefined, previous: { red: 1, blue: 0 }, reset: false },
    ]);
    expect(a.room.state.entries()).toEqual([['phase', 'live']]);
    expect(b.room.state.get('phase')).toBe('live');
    expect(b.room.state.has('score')).toBe(false);

    room.state.set('x', 1);
    room.state.set('y', [1, 2]);
    room.state.clear();
    room.state.set('z', null);
    await until(() => b.seen.length === 6, 5_000, 'clear');
    // x and y came and went within one batch: clients only hear that phase went and z came.
    expect(b.seen.slice(4)).toEqual([
      { key: 'phase', value: undefined, previous: 'live', reset: false },
      { key: 'z', value: null, previous: undefined, reset: false },
    ]);
    expect(b.room.state.keys()).toEqual(['z']);
    expect(room.state.keys()).toEqual(['z']);
    expect(room.state.size).toBe(1);
  });

  it('gives a late joiner a snapshot, and its values are frozen', async () => {
    await start();
    const a = await join();
    const room = serverRoom(a.room.id);
    room.state.set('map', 'dunes');
    room.state.set('teams', { red: ['ann'], blue: [] });
    room.state.set('gone', true);
    room.state.delete('gone');
    const late = await join();
    // The snapshot arrived before the join resolved.
    expect(late.room.state.entries()).toEqual([
      ['map', 'dunes'],
      ['teams', { red: ['ann'], blue: [] }],
    ]);
    await until(() => late.seen.length === 2, 5_000, 'snapshot events');
    expect(late.seen.every((e) => 'reset' in e && e.reset)).toBe(true);
    const teams = late.room.state.get('teams') as { red: string[] };
    expect(Object.isFrozen(teams) && Object.isFrozen(teams.red)).toBe(true);
    const serverTeams = room.state.get('teams') as { red: string[] };
    expect(() => serverTeams.red.push('bob')).toThrow(TypeError);
    // a still hears later changes once; the late joiner too.
    room.state.set('map', 'canyon');
    await until(() => late.seen.length === 3 && a.seen.length >= 1);
    expect(late.seen[2]).toEqual({ key: 'map', value: 'canyon', previous: 'dunes', reset: false });
  });

  it('batches changes of one turn, and delivers them before room messages sent after them', async () => {
    await start();
    const a = await join();
    a.room.send('burst', { key: 'k' });
    await until(() => a.seen.length === 2, 5_000, 'burst');
    expect(a.seen).toEqual([{ key: 'k', value: 3, previous: undefined, reset: false }, { note: 'after k' }]);
  });

  it('splits a large snapshot so that every frame fits', async () => {
    await start();
    const a = await join();
    const room = serverRoom(a.room.id);
    const big = 'v'.repeat(15_000);
    for (let i = 0; i < 12; i++) room.state.set(`key-${i}`, `${big}${i}`);
    await until(() => a.seen.length === 12, 5_000, 'big changes');
    const late = await join();
    expect(late.room.state.size).toBe(12);
    expect(late.room.state.get('key-11')).toBe(`${big}11`);
  });

  it('refuses values that are not JSON and keys or values over the limits with request_invalid', async () => {
    await start({ maxKeys: 3, maxKeyBytes: 8, maxValueBytes: 64 });
    const a = await join();
    const room = serverRoom(a.room.id);
    const refuse = (fn: () => void) => {
      try {
        fn();
      } catch (err) {
        return err instanceof NetloomError ? err.code : 'not a NetloomError';
      }
      return 'accepted';
    };
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    const bad: unknown[] = [
      undefined,
      Number.NaN,
      Number.POSITIVE_INFINITY,
      () => 1,
      Symbol('s'),
      10n,
      new Date(0),
      new Map(),
      { nested: { f: () => 1 } },
      [1, undefined],
      // biome-ignore lint/suspicious/noSparseArray: a hole is what is being refused
      [1, , 3],
      cyclic,
    ];
    for (const value of bad) expect(refuse(() => room.state.set('k', value as Json))).toBe('request_invalid');
    expect(refuse(() => room.state.set('', 1))).toBe('request_invalid');
    expect(refuse(() => room.state.set(42 as unknown as string, 1))).toBe('request_invalid');
    expect(refuse(() => room.state.set('123456789', 1))).toBe('request_invalid'); // 9 bytes > 8
    expect(refuse(() => room.state.set('ééééé', 1))).toBe('request_invalid'); // 10 bytes
    expect(refuse(() => room.state.set('k', 'x'.repeat(63)))).toBe('request_invalid'); // 65 bytes as JSON
    expect(refuse(() => room.state.set('k', 'x'.repeat(62)))).toBe('accepted');
    expect(refuse(() => room.state.set('k2', 2))).toBe('accepted');
    expect(refuse(() => room.state.set('k3', 3))).toBe('accepted');
    expect(refuse(() => room.state.set('k4', 4))).toBe('request_invalid'); // a 4th key
    expect(refuse(() => room.state.set('k3', 33))).toBe('accepted'); // replacing is fine
    room.state.delete('k2');
    expect(refuse(() => room.state.set('k4', 4))).toBe('accepted');
    expect(room.state.keys().sort()).toEqual(['k', 'k3', 'k4']);

    // Through a client message: the room code catches and replies; the room keeps running.
    const refused: string[] = [];
    a.room.on('refused', (m) => refused.push(m.code));
    a.room.send('set', { key: 'k5', json: '1' });
    await until(() => refused.length === 1);
    expect(refused).toEqual(['request_invalid']);
    expect(room.state.has('k5')).toBe(false);
  });

  it('refuses bad limits in a room definition', () => {
    expect(() => new RoomStateStore({ maxKeys: 0 }, () => [])).toThrow(NetloomError);
    expect(() => new RoomStateStore({ maxValueBytes: 1.5 }, () => [])).toThrow(NetloomError);
    // Values are capped so one key always fits a frame.
    expect(new RoomStateStore({ maxValueBytes: 10_000_000 }, () => []).limits.maxValueBytes).toBe(60_000);
  });
});

describe('state mirror (client)', () => {
  it('reports a value that is not JSON as an error and skips it', () => {
    const mirror = new StateMirror();
    const out = mirror.apply(false, [
      { key: 'a', value: '{"ok":true}' },
      { key: 'b', value: '{not json' },
    ]);
    expect(out.events).toEqual([{ key: 'a', value: { ok: true }, previous: undefined, reset: false }]);
    expect(out.errors.map((e) => e.code)).toEqual(['payload_invalid']);
    expect(mirror.keys()).toEqual(['a']);
  });

  it('a reset drops keys the snapshot does not have, and repeats nothing unchanged', () => {
    const mirror = new StateMirror();
    mirror.apply(false, [
      { key: 'a', value: '1' },
      { key: 'b', value: '2' },
    ]);
    const out = mirror.apply(true, [
      { key: 'a', value: '1' },
      { key: 'c', value: '3' },
    ]);
    expect(out.events).toEqual([
      { key: 'b', value: undefined, previous: 2, reset: true },
      { key: 'c', value: 3, previous: undefined, reset: true },
    ]);
    expect(mirror.entries()).toEqual([
      ['a', 1],
      ['c', 3],
    ]);
  });
});

describe('state store (server)', () => {
  it('sends nothing for a change that changes nothing', async () => {
    const sent: Array<{ reset: boolean; keys: string[] }> = [];
    const port: MemberPort = {
      send: () => undefined,
      ended: () => undefined,
      presence: () => undefined,
      state: (reset, changes) => sent.push({ reset, keys: changes.map((c) => c.key) }),
    };
    const store = new RoomStateStore(undefined, () => [{ port }]);
    store.set('a', { x: 1 });
    await Promise.resolve();
    expect(sent).toEqual([{ reset: false, keys: ['a'] }]);
    store.set('a', { x: 1 }); // same JSON
    store.set('b', 1);
    store.delete('b');
    await Promise.resolve();
    store.flush();
    expect(sent.length).toBe(1);
    expect(store.delete('missing')).toBe(false);
  });
});
