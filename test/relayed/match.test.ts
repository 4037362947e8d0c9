// Relayed matches over real WebSockets: create, join by id, relay to all or listed, ordering, channels, ending.
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { Client, Link, Match, MatchData, PresenceEvent } from '../../src/client/index.js';
import { NetloomError } from '../../src/codec/errors.js';
import { decodeFrame, FrameKind, MessageKind } from '../../src/codec/frames.js';
import {
  type CreateServerOptions,
  createServer,
  ManualClock,
  type RelayedRoomOptions,
  relayedRoom,
} from '../../src/server/index.js';
import { EndedRooms } from '../../src/server/rooms/tombstones.js';
import { createEchoRoom, echoProtocol, newEchoLog } from '../helpers/echo-room.js';
import { nodeClient, until } from '../helpers/netloom.js';

let app: Awaited<ReturnType<typeof createServer>> | null = null;
let url = '';
const clients: Client[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await app?.close();
  app = null;
});

async function start(options: RelayedRoomOptions = {}, extra: Partial<CreateServerOptions> = {}) {
  app = await createServer({
    rooms: { match: relayedRoom(options), echo: createEchoRoom(newEchoLog()) },
    session: { limits: { messagesPerSecond: 0 } },
    ...extra,
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  return app;
}

function client(options: Parameters<typeof nodeClient>[1] = {}): Client {
  const c = nodeClient(url, options);
  clients.push(c);
  return c;
}

interface Player {
  match: Match;
  data: MatchData[];
  presence: PresenceEvent[];
}

function watch(match: Match): Player {
  const player: Player = { match, data: [], presence: [] };
  match.on('data', (d) => player.data.push(d));
  match.on('presence', (e) => player.presence.push(e));
  return player;
}

const bytes = (...n: number[]) => new Uint8Array(n);
const ids = (members: ReadonlyArray<{ clientId: string }>) => members.map((m) => m.clientId).sort();

describe('relayed matches', () => {
  it('creates a match with an id to share; others join by id and see the member list', async () => {
    await start();
    const a = watch(await client().createMatch());
    expect(a.match.id).toMatch(/.+/);
    expect(a.match.members).toEqual([{ clientId: a.match.clientId, userId: undefined }]);
    const b = watch(await client().joinMatch(a.match.id));
    expect(b.match.id).toBe(a.match.id);
    // The join reply listed everyone already there.
    expect(ids(b.match.members)).toEqual(ids([a.match, b.match].map((m) => ({ clientId: m.clientId }))));
    await until(() => a.presence.length === 2, 5_000, 'join diff');
    expect(a.presence[1]).toEqual({ joins: [{ clientId: b.match.clientId, userId: undefined }], leaves: [] });
    // A match is private: not in the public list.
    const listed = await app?.netloom.rooms.list();
    expect(listed?.some((r) => r.id === a.match.id)).toBe(false);
  });

  it('relays to every other member, or only to the listed ones, keeping op and bytes', async () => {
    await start();
    const a = watch(await client().createMatch());
    const b = watch(await client().joinMatch(a.match.id));
    const c = watch(await client().joinMatch(a.match.id));
    expect(a.match.send(7, bytes(1, 2, 3))).toBe(true);
    await until(() => b.data.length === 1 && c.data.length === 1, 5_000, 'broadcast relay');
    expect(b.data[0]).toEqual({ from: a.match.clientId, op: 7, data: bytes(1, 2, 3) });
    expect(c.data[0]).toEqual(b.data[0]);

    // To c only (by id), then to b only (by member object), with an unknown id that is skipped.
    a.match.send(8, bytes(9), { to: [c.match.clientId, 'nobody'] });
    const bMember = a.match.members.find((m) => m.clientId === b.match.clientId);
    if (!bMember) throw new Error('b missing from a.members');
    a.match.send(9, bytes(), { to: [bMember] });
    // The listed sender gets its own message.
    c.match.send(10, bytes(4), { to: [c.match.clientId] });
    await until(() => c.data.length === 3 && b.data.length === 2, 5_000, 'targeted relay');
    expect(c.data.slice(1)).toEqual([
      { from: a.match.clientId, op: 8, data: bytes(9) },
      { from: c.match.clientId, op: 10, data: bytes(4) },
    ]);
    expect(b.data[1]).toEqual({ from: a.match.clientId, op: 9, data: bytes() });
    expect(a.data).toEqual([]); // the sender never hears its own broadcast
    expect(a.match.send(1, bytes(1), { to: [] })).toBe(false); // an empty list reaches nobody
  });

  it('delivers many reliable messages from several senders in the order the server processed them', async () => {
    await start();
    const a = watch(await client().createMatch());
    const b = watch(await client().joinMatch(a.match.id));
    const c = watch(await client().joinMatch(a.match.id));
    const n = 400;
    for (let i = 0; i < n; i++) {
      a.match.send(1, bytes(i & 0xff, i >> 8));
      b.match.send(2, bytes(i & 0xff, i >> 8));
    }
    await until(() => c.data.length === 2 * n, 10_000, 'all relayed');
    const seq = (d: MatchData) => d.data[0] + (d.data[1] << 8);
    const fromA = c.data.filter((d) => d.from === a.match.clientId).map(seq);
    const fromB = c.data.filter((d) => d.from === b.match.clientId).map(seq);
    const expected = Array.from({ length: n }, (_, i) => i);
    expect(fromA).toEqual(expected);
    expect(fromB).toEqual(expected);
    expect(c.data.filter((d) => d.from === a.match.clientId).every((d) => d.op === 1)).toBe(true);
    await until(() => a.data.length === n && b.data.length === n, 10_000, 'cross relay');
    expect(a.data.map(seq)).toEqual(expected);
  });

  it('keeps the channel: unreliable sends arrive on the unreliable channel', async () => {
    await start();
    const kinds: number[] = [];
    const spy = (link: Link): Link => {
      const install = () => {
        const original = link.onframe;
        if (!original || (original as { spied?: boolean }).spied) return;
        const wrapped = (frame: Uint8Array, channel: 'reliable' | 'unreliable') => {
          const decoded = decodeFrame(frame);
          if (
            (decoded.kind === FrameKind.Reliable || decoded.kind === FrameKind.Unreliable) &&
            decoded.message.kind === MessageKind.Room
          )
            kinds.push(decoded.kind);
          original(frame, channel);
        };
        (wrapped as { spied?: boolean }).spied = true;
        link.onframe = wrapped;
      };
      return new Proxy(link, {
        set(target, prop, value) {
          const ok = Reflect.set(target, prop, value);
          if (prop === 'onframe') install();
          return ok;
        },
      });
    };
    const a = watch(await client().createMatch());
    const b = watch(await client({ wrapLink: spy }).joinMatch(a.match.id));
    a.match.send(1, bytes(1), { reliable: false });
    await until(() => b.data.length === 1, 5_000, 'unreliable relay');
    a.match.send(2, bytes(2));
    await until(() => b.data.length === 2, 5_000, 'reliable relay');
    expect(kinds).toEqual([FrameKind.Unreliable, FrameKind.Reliable]);
  });

  it('ends when its last member leaves; the id is then refused with match_ended', async () => {
    const server = await start();
    const a = watch(await client().createMatch());
    const id = a.match.id;
    const b = watch(await client().joinMatch(id));
    await b.match.leave();
    await until(() => a.presence.length === 3, 5_000, 'leave diff');
    expect(a.presence[2].leaves.map((m) => m.clientId)).toEqual([b.match.clientId]);
    // One member left: the match goes on, others can still join.
    const c = watch(await client().joinMatch(id));
    await c.match.leave();
    await a.match.leave();
    await until(() => (server.netloom.metrics().rooms_disposed ?? 0) >= 1, 5_000, 'match disposed');
    const err = await client()
      .joinMatch(id)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NetloomError);
    expect((err as NetloomError).code).toBe('match_ended');
    // The HTTP API says 410 Gone, and the backend SDK refuses too.
    const res = await fetch(`${url}/netloom/rooms/${id}/join`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    expect(res.status).toBe(410);
    expect(await res.json()).toMatchObject({ code: 'match_ended' });
    await expect(server.netloom.seats.reserve(id)).rejects.toMatchObject({ code: 'match_ended' });
  });

  it('a disposed ordinary room still answers room_not_found', async () => {
    const server = await start();
    const room = await client().joinOrCreate('echo', {}, { protocol: echoProtocol });
    const id = room.id;
    await room.leave();
    await until(() => (server.netloom.metrics().rooms_disposed ?? 0) >= 1, 5_000, 'echo disposed');
    await expect(server.netloom.seats.reserve(id)).rejects.toMatchObject({ code: 'room_not_found' });
  });

  it('kicks a member relaying more than maxDataBytes; the others get nothing of it', async () => {
    await start({ maxDataBytes: 100 });
    const a = watch(await client().createMatch());
    const b = watch(await client().joinMatch(a.match.id));
    const left: Array<{ code: string }> = [];
    a.match.on('leave', (e) => left.push(e));
    a.match.send(1, new Uint8Array(100)); // at the limit: relayed
    a.match.send(2, new Uint8Array(101)); // over: kicked
    await until(() => left.length === 1, 5_000, 'kick');
    expect(left[0].code).toBe('kicked');
    await until(() => b.presence.length === 2, 5_000, 'leave diff');
    expect(b.data.map((d) => d.op)).toEqual([1]);
  });

  it('refuses bad op codes and data on the client', async () => {
    await start();
    const a = watch(await client().createMatch());
    for (const op of [-1, 1.5, 2 ** 32, Number.NaN]) {
      expect(() => a.match.send(op, bytes(1))).toThrow(NetloomError);
    }
    expect(() => a.match.send(1, [1, 2] as unknown as Uint8Array)).toThrow(NetloomError);
    expect(a.match.send(0xffff_ffff, bytes(1))).toBe(true);
  });

  it('refuses a match id that never existed with room_not_found, and an unknown match type', async () => {
    await start();
    await expect(client().joinMatch('nope')).rejects.toMatchObject({ code: 'room_not_found' });
    await expect(client().createMatch({ type: 'arena' })).rejects.toMatchObject({
      code: 'room_type_unknown',
    });
  });
});

describe('matches nobody joins', () => {
  it('end after emptyTimeoutMs and answer match_ended', async () => {
    const clock = new ManualClock();
    const server = await start({ emptyTimeoutMs: 1_000 }, { clock });
    const record = await server.netloom.rooms.create('match');
    clock.advance(999);
    expect(await server.netloom.rooms.get(record.id)).not.toBeNull();
    clock.advance(1);
    await until(() => (server.netloom.metrics().rooms_disposed ?? 0) >= 1, 5_000, 'disposal');
    await expect(server.netloom.seats.reserve(record.id)).rejects.toMatchObject({ code: 'match_ended' });
  });
});

describe('EndedRooms', () => {
  it('remembers ids for ttlMs, at most max of them, oldest forgotten first', () => {
    const clock = new ManualClock();
    const ended = new EndedRooms(clock, { max: 2, ttlMs: 100 });
    ended.add('a');
    clock.advance(10);
    ended.add('b');
    expect(ended.has('a') && ended.has('b')).toBe(true);
    ended.add('c');
    expect(ended.has('a')).toBe(false);
    expect(ended.has('b') && ended.has('c')).toBe(true);
    clock.advance(90); // b is 90 ms old, c 90 ms: both still there
    expect(ended.has('b')).toBe(true);
    clock.advance(10);
    expect(ended.has('b')).toBe(false);
    expect(ended.has('c')).toBe(false);
    expect(ended.size).toBe(0);
    const none = new EndedRooms(clock, { max: 0 });
    none.add('x');
    expect(none.has('x')).toBe(false);
  });
});
