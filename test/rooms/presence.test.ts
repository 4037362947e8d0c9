// Presence over real WebSockets: the member list on join, join/leave diffs, no empty events, opt-out, reserved names.
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type Client,
  type Room as ClientRoom,
  type ConditionedLink,
  conditionLink,
  type PresenceEvent,
} from '../../src/client/index.js';
import { MemberList } from '../../src/client/room-mirror.js';
import { NetloomError } from '../../src/codec/errors.js';
import type { PresenceMember } from '../../src/codec/frames.js';
import { defineProtocol, p } from '../../src/codec/index.js';
import {
  type CreateServerOptions,
  createServer,
  defineRoom,
  type MemberPort,
  type Room,
} from '../../src/server/index.js';
import { PresenceTracker } from '../../src/server/rooms/presence.js';
import { nodeClient, until } from '../helpers/netloom.js';

const protocol = defineProtocol({
  client: { ping: p.object({ n: p.varuint() }) },
  server: { pong: p.object({ n: p.varuint(), count: p.varuint() }) },
});

type AnyServerRoom = Room<typeof protocol, undefined, unknown>;

interface Harness {
  url: string;
  rooms: Map<string, AnyServerRoom>;
  close(): Promise<void>;
  app: Awaited<ReturnType<typeof createServer>>;
}

let harness: Harness | null = null;
const clients: Client[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await harness?.close();
  harness = null;
});

async function start(
  presence?: boolean,
  extra: Partial<CreateServerOptions> = {},
  reconnectionMs = 0,
): Promise<Harness> {
  const rooms = new Map<string, AnyServerRoom>();
  const lobby = defineRoom({
    protocol,
    maxClients: 8,
    reconnectionMs,
    ...(presence === undefined ? {} : { presence }),
    onCreate(room) {
      rooms.set(room.id, room);
    },
    messages: {
      ping(room, client, msg) {
        room.send(client, 'pong', { n: msg.n, count: room.memberCount() });
      },
    },
  });
  const app = await createServer({ rooms: { lobby }, ...extra });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  harness = { url, rooms, app, close: () => app.close() };
  return harness;
}

function client(links?: ConditionedLink[]): Client {
  if (!harness) throw new Error('no server');
  const c = nodeClient(
    harness.url,
    links
      ? {
          wrapLink: (link) => {
            const conditioned = conditionLink(link, {});
            links.push(conditioned);
            return conditioned;
          },
          reconnect: { baseDelayMs: 10, maxDelayMs: 50 },
        }
      : {},
  );
  clients.push(c);
  return c;
}

/** Joins and records every presence event from the first one on (listeners added before the held flush). */
async function join(c: Client): Promise<{ room: ClientRoom<typeof protocol>; events: PresenceEvent[] }> {
  const room = await c.joinOrCreate('lobby', {}, { protocol });
  const events: PresenceEvent[] = [];
  room.on('presence', (e) => events.push(e));
  return { room, events };
}

const ids = (members: ReadonlyArray<{ clientId: string }>) => members.map((m) => m.clientId);

describe('presence', () => {
  it('gives a joining client the current member list before the join resolves, itself included', async () => {
    await start();
    const a = await join(client());
    expect(ids(a.room.members)).toEqual([a.room.clientId]);
    const b = await join(client());
    expect(b.room.id).toBe(a.room.id);
    // The list is complete as soon as the join resolves.
    expect(ids(b.room.members)).toEqual([a.room.clientId, b.room.clientId]);
    await until(() => b.events.length === 1, 5_000, 'initial presence event');
    expect(ids(b.events[0].joins)).toEqual([a.room.clientId, b.room.clientId]);
    expect(b.events[0].leaves).toEqual([]);
    expect(b.room.members.every((m) => m.userId === undefined)).toBe(true);
  });

  it('sends joins and leaves as diffs, and the server room sees members and counts', async () => {
    const h = await start();
    const a = await join(client());
    await until(() => a.events.length === 1);
    const b = await join(client());
    await until(() => a.events.length === 2, 5_000, 'join diff');
    expect(a.events[1]).toEqual({ joins: [{ clientId: b.room.clientId, userId: undefined }], leaves: [] });
    const server = h.rooms.get(a.room.id);
    expect(server?.memberCount()).toBe(2);
    expect(server && ids(server.members)).toEqual([a.room.clientId, b.room.clientId]);

    await b.room.leave();
    await until(() => a.events.length === 3, 5_000, 'leave diff');
    expect(a.events[2]).toEqual({ joins: [], leaves: [{ clientId: b.room.clientId, userId: undefined }] });
    expect(ids(a.room.members)).toEqual([a.room.clientId]);
    expect(server?.memberCount()).toBe(1);
    expect(b.events.length).toBe(1); // the leaver hears nothing after its own leave
  });

  it('sends no event when nothing changed (messages, a failed join)', async () => {
    await start();
    const a = await join(client());
    await until(() => a.events.length === 1);
    const pongs: number[] = [];
    a.room.on('pong', (m) => pongs.push(m.n));
    for (let n = 1; n <= 5; n++) a.room.send('ping', { n });
    await until(() => pongs.length === 5);
    // A join by an unknown id fails without touching presence.
    await expect(client().joinById('no-such-room', {}, { protocol })).rejects.toMatchObject({
      code: 'room_not_found',
    });
    // A round trip after everything: had a presence message been sent, it would have arrived first.
    a.room.send('ping', { n: 6 });
    await until(() => pongs.length === 6);
    expect(a.events.length).toBe(1);
  });

  it('keeps a member whose link dropped and resumed: no presence event for anyone', async () => {
    await start(undefined, {}, 10_000);
    const a = await join(client());
    const links: ConditionedLink[] = [];
    const b = await join(client(links));
    await until(() => a.events.length === 2 && b.events.length === 1);
    let resumed = false;
    b.room.on('reconnected', () => {
      resumed = true;
    });
    links[0].kill('test kills the link');
    await until(() => resumed, 5_000, 'resume');
    const pongs: number[] = [];
    const aPongs: number[] = [];
    b.room.on('pong', (m) => pongs.push(m.count));
    a.room.on('pong', (m) => aPongs.push(m.count));
    b.room.send('ping', { n: 1 });
    await until(() => pongs.length === 1);
    // A round trip for a after b is back: any presence change would have reached a before its pong.
    a.room.send('ping', { n: 2 });
    await until(() => aPongs.length === 1);
    expect(pongs).toEqual([2]);
    expect(aPongs).toEqual([2]);
    expect(a.events.length).toBe(2);
    expect(b.events.length).toBe(1);
    expect(ids(b.room.members).sort()).toEqual([a.room.clientId, b.room.clientId].sort());
  });

  it('announces the leave of a member whose link dropped with no reconnection window', async () => {
    await start(undefined, {}, 0);
    const a = await join(client());
    const links: ConditionedLink[] = [];
    const b = await join(client(links));
    await until(() => a.events.length === 2);
    links[0].kill('test kills the link');
    await until(() => a.events.length === 3, 5_000, 'leave diff');
    expect(a.events[2]).toEqual({ joins: [], leaves: [{ clientId: b.room.clientId, userId: undefined }] });
    expect(ids(a.room.members)).toEqual([a.room.clientId]);
  });

  it('carries the authenticated user id', async () => {
    const h = await start();
    const record = await h.app.netloom.rooms.create('lobby');
    const ticket = await h.app.netloom.seats.reserve(record.id, { identity: { userId: 'ann', data: {} } });
    const room = await client().join(ticket, { protocol });
    expect(room.members).toEqual([{ clientId: room.clientId, userId: 'ann' }]);
    expect(h.rooms.get(record.id)?.members).toEqual([{ clientId: room.clientId, userId: 'ann' }]);
  });

  it('can be turned off per room type: no presence messages, server list still kept', async () => {
    const h = await start(false);
    const a = await join(client());
    const b = await join(client());
    const pongs: number[] = [];
    a.room.on('pong', (m) => pongs.push(m.count));
    a.room.send('ping', { n: 1 });
    await until(() => pongs.length === 1);
    expect(pongs).toEqual([2]);
    expect(a.room.members).toEqual([]);
    expect(b.room.members).toEqual([]);
    expect(a.events).toEqual([]);
    expect(h.rooms.get(a.room.id)?.memberCount()).toBe(2);
  });
});

describe('PresenceTracker batching', () => {
  function port(log: Array<{ joins: PresenceMember[]; leaves: string[] }>): MemberPort {
    return {
      send: () => undefined,
      ended: () => undefined,
      presence: (joins, leaves) => log.push({ joins, leaves }),
      state: () => undefined,
    };
  }

  it('batches leaves into one diff, announces each join once, never a member gone before the flush', async () => {
    const logs = new Map<string, Array<{ joins: PresenceMember[]; leaves: string[] }>>();
    const ports = new Map<string, MemberPort>();
    const tracker = new PresenceTracker(true, () =>
      [...ports].map(([clientId, p]) => ({ clientId, port: p })),
    );
    const add = (id: string) => {
      const log: Array<{ joins: PresenceMember[]; leaves: string[] }> = [];
      logs.set(id, log);
      ports.set(id, port(log));
      tracker.add({ clientId: id, userId: undefined }, ports.get(id) as MemberPort);
    };
    const remove = (id: string) => {
      ports.delete(id);
      tracker.remove(id);
    };
    const member = (clientId: string) => ({ clientId, userId: '' });
    for (const id of ['a', 'b', 'c', 'd']) add(id);
    add('ghost');
    remove('ghost');
    await Promise.resolve();
    expect(logs.get('a')).toEqual([
      { joins: [member('a')], leaves: [] },
      { joins: [member('b')], leaves: [] },
      { joins: [member('c')], leaves: [] },
      { joins: [member('d')], leaves: [] },
    ]);
    // d's snapshot listed a..d; nothing followed for it (not its own join, not the ghost).
    expect(logs.get('d')).toEqual([{ joins: ['a', 'b', 'c', 'd'].map(member), leaves: [] }]);
    tracker.flush(); // nothing pending: nothing sent
    expect(logs.get('a')?.length).toBe(4);
    remove('b');
    remove('c');
    await Promise.resolve();
    expect(logs.get('a')?.slice(4)).toEqual([{ joins: [], leaves: ['b', 'c'] }]);
    expect(logs.get('d')?.slice(1)).toEqual([{ joins: [], leaves: ['b', 'c'] }]);
    expect(tracker.members).toEqual([
      { clientId: 'a', userId: undefined },
      { clientId: 'd', userId: undefined },
    ]);
  });

  it('sends nothing when turned off, but keeps the list', async () => {
    const log: Array<{ joins: PresenceMember[]; leaves: string[] }> = [];
    const tracker = new PresenceTracker(false, () => [{ clientId: 'a', port: port(log) }]);
    tracker.add({ clientId: 'a', userId: 'ann' }, port(log));
    tracker.add({ clientId: 'b', userId: undefined }, port(log));
    tracker.remove('b');
    await Promise.resolve();
    tracker.flush();
    expect(log).toEqual([]);
    expect(tracker.members).toEqual([{ clientId: 'a', userId: 'ann' }]);
  });

  it('splits a very large member list into several messages', () => {
    const log: Array<{ joins: PresenceMember[]; leaves: string[] }> = [];
    const members = Array.from({ length: 1_200 }, (_, i) => `member-${i}-${'é'.repeat(30)}`);
    const tracker = new PresenceTracker(true, () => []);
    for (const id of members.slice(0, -1)) tracker.add({ clientId: id, userId: 'u'.repeat(10) }, port([]));
    tracker.add({ clientId: members.at(-1) as string, userId: 'u'.repeat(10) }, port(log));
    expect(log.length).toBeGreaterThan(1);
    expect(log.flatMap((m) => m.joins.map((j) => j.clientId))).toEqual(members);
  });

  it('client MemberList ignores joins it knows and leaves it does not', () => {
    const list = new MemberList();
    expect(list.apply([{ clientId: 'a', userId: 'ann' }], [])).toEqual({
      joins: [{ clientId: 'a', userId: 'ann' }],
      leaves: [],
    });
    expect(list.apply([{ clientId: 'a', userId: 'ann' }], ['zed'])).toBeNull();
    expect(list.apply([], ['a'])).toEqual({ joins: [], leaves: [{ clientId: 'a', userId: 'ann' }] });
    expect(list.size).toBe(0);
  });
});

describe('reserved event names', () => {
  it("refuses protocols whose server messages are named 'presence' or 'state-change'", async () => {
    await start();
    for (const name of ['presence', 'state-change']) {
      const clash = defineProtocol({ client: {}, server: { [name]: p.object({}) } });
      const err = await client()
        .joinOrCreate('lobby', {}, { protocol: clash })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(NetloomError);
      expect((err as NetloomError).code).toBe('protocol_invalid');
    }
  });
});
