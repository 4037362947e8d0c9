// Three netloom nodes in one process sharing a real redis-server: registry, placement, routed seats, pushes, loss.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from '../../src/client/index.js';
import type { NetloomError } from '../../src/codec/errors.js';
import { defineProtocol, p } from '../../src/codec/index.js';
import { type Driver, defineRoom, redisDriver, relayedRoom } from '../../src/server/index.js';
import { createEchoRoom, echoProtocol, newEchoLog } from '../helpers/echo-room.js';
import { startEchoServer, type TestServer, until } from '../helpers/netloom.js';
import { type RedisInstance, startRedis } from '../helpers/redis.js';
import { headerAuth, typedClient } from '../rpc/helpers.js';

const SECRET = 'cluster-test-secret-0123456789';
const notices = defineProtocol({ client: {}, server: { news: p.object({ text: p.string() }) } });

let redis: RedisInstance;
let prefix = '';
let run = 0;
const nodes: TestServer[] = [];
const drivers = new Map<TestServer, Driver>();
const clients: Client[] = [];

/** A room whose state is mirrored into Redis: `n` counts members who joined. */
const board = defineRoom({
  protocol: echoProtocol,
  sharedState: true,
  onCreate(room) {
    room.state.set('title', 'the board');
  },
  onJoin(room) {
    room.state.set('joined', room.memberCount());
  },
});

async function startNode(nodeId: string, maxClients = 16, only?: 'echo' | 'board'): Promise<TestServer> {
  const driver: Driver = await redisDriver({ url: redis.url, prefix });
  const all = { echo: createEchoRoom(newEchoLog(), { maxClients }), match: relayedRoom(), board };
  const node = await startEchoServer({
    rooms: only === 'board' ? { board } : only === 'echo' ? { echo: all.echo } : all,
    driver,
    nodeId,
    seatSecret: SECRET,
    maxClients,
    notices,
    authenticate: headerAuth,
    joinRatePerIp: false,
    cluster: { heartbeatMs: 100, nodeTtlMs: 400, requestTimeoutMs: 2_000 },
    matchmaker: { intervalMs: 50, ticketRatePerIp: false },
  });
  nodes.push(node);
  drivers.set(node, driver);
  return node;
}

async function startCluster(count = 3, maxClients = 16): Promise<TestServer[]> {
  prefix = `t${run++}:`;
  const started: TestServer[] = [];
  for (let i = 0; i < count; i++) started.push(await startNode(`n${i + 1}`, maxClients));
  return started;
}

function client(url: string, user = 'anon'): Client {
  const c = typedClient(url, { notices, headers: { 'x-user': user } }) as unknown as Client;
  clients.push(c);
  return c;
}

async function json(
  url: string,
  init?: RequestInit,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(url, init);
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

beforeAll(async () => {
  redis = await startRedis();
});

afterAll(async () => {
  await redis?.stop();
});

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await Promise.all(nodes.splice(0).map((n) => n.close().catch(() => undefined)));
});

describe('a cluster of three nodes on one Redis', () => {
  it('registers every node with its URL, room types and WebSocket endpoint, and forgets a node that stops', async () => {
    const [a, b, c] = await startCluster();
    const listed = await a.app.netloom.cluster?.nodes();
    expect(listed?.map((n) => n.id)).toEqual(['n1', 'n2', 'n3']);
    for (const [i, node] of [a, b, c].entries()) {
      const record = listed?.[i];
      expect(record?.url).toBe(node.url);
      expect(record?.roomTypes).toEqual(['echo', 'match', 'board']);
      expect(record?.transports.websocket).toBe(`${node.url}/netloom/ws`);
    }
    await nodes.splice(nodes.indexOf(c), 1)[0].close();
    expect((await a.app.netloom.cluster?.nodes())?.map((n) => n.id)).toEqual(['n1', 'n2']);
    expect(b.app.netloom.cluster?.nodeId).toBe('n2');
  });

  it('refuses a clustered driver without a shared seatSecret', async () => {
    prefix = `t${run++}:`;
    const driver = await redisDriver({ url: redis.url, prefix });
    await expect(startEchoServer({ driver })).rejects.toMatchObject({ code: 'request_invalid' });
    await driver.close();
  });

  it('places new rooms on the least loaded node and joins them from any node', async () => {
    const [a, b, c] = await startCluster();
    const placed = new Set<string>();
    for (let i = 0; i < 3; i++) {
      const record = await a.app.netloom.rooms.create('echo');
      placed.add(record.nodeId);
      // Let the owner's heartbeat publish its new room count before the next placement.
      await untilAsync(async () => {
        const listed = (await a.app.netloom.cluster?.nodes()) ?? [];
        return listed.reduce((sum, n) => sum + n.rooms, 0) === i + 1;
      });
    }
    expect(placed.size).toBe(3);
    const rooms = await b.app.netloom.rooms.list({ type: 'echo' });
    expect(rooms).toHaveLength(3);
    for (const room of rooms) {
      // A client whose base is node c joins each room, wherever it runs, and talks to it.
      const joined = await client(c.url).joinById(room.id, { name: 'ann' }, { protocol: echoProtocol });
      const said: string[] = [];
      joined.on('said', (m) => said.push(m.text));
      joined.send('say', { n: 1, text: `hi ${room.nodeId}` });
      await until(() => said.length === 1, 5_000, 'echo');
      expect(said[0]).toBe(`hi ${room.nodeId}`);
    }
    const owner = nodes.find((n) => n.app.netloom.nodeId === rooms[0].nodeId);
    const other = nodes.find((n) => n !== owner);
    const ticket = await other?.app.netloom.seats.reserve(rooms[0].id, { joinData: { name: 'bo' } });
    expect(ticket?.url).toBe(owner?.url);
    expect(ticket?.transports.websocket).toBe(`${owner?.url}/netloom/ws`);
  });

  it('seats exactly maxClients of 50 clients racing through three nodes for one room, every time', async () => {
    const cluster = await startCluster();
    for (let round = 0; round < 3; round++) {
      const room = await cluster[round].app.netloom.rooms.create('echo');
      const results = await Promise.allSettled(
        Array.from({ length: 50 }, (_, i) =>
          client(cluster[i % 3].url, `u${i}`).joinById(
            room.id,
            { name: `p${i}` },
            { protocol: echoProtocol },
          ),
        ),
      );
      const seated = results.filter((r) => r.status === 'fulfilled');
      const refused = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      expect(seated).toHaveLength(16);
      expect(new Set(refused.map((r) => (r.reason as NetloomError).code))).toEqual(new Set(['room_full']));
      const record = await cluster[0].app.netloom.rooms.get(room.id);
      expect(record?.clients).toBe(16);
      expect(record?.reserved).toBe(0);
      for (const c of clients.splice(0)) c.close();
    }
  });

  it('joinOrCreate through three nodes fills rooms without over-filling any', async () => {
    const cluster = await startCluster(3, 4);
    const results = await Promise.allSettled(
      Array.from({ length: 30 }, (_, i) =>
        client(cluster[i % 3].url, `u${i}`).joinOrCreate(
          'echo',
          { name: `p${i}` },
          { protocol: echoProtocol },
        ),
      ),
    );
    expect(results.every((r) => r.status === 'fulfilled')).toBe(true);
    const rooms = await cluster[1].app.netloom.rooms.list({ type: 'echo' });
    for (const room of rooms) expect(room.clients).toBeLessThanOrEqual(4);
    expect(rooms.reduce((sum, room) => sum + room.clients, 0)).toBe(30);
    expect(rooms.length).toBeGreaterThanOrEqual(8);
  });

  it('broadcast and selector multicast reach sessions on every node; a function filter stays local', async () => {
    const cluster = await startCluster();
    const news = new Map<string, string[]>();
    for (const [i, node] of cluster.entries()) {
      const record = await node.app.netloom.rooms.create('echo');
      expect(record.nodeId).toBe(node.app.netloom.nodeId);
      const user = `user${i}`;
      const c = client(node.url, user);
      news.set(user, []);
      (c as unknown as { on(e: string, f: (m: { text: string }) => void): void }).on('news', (m) =>
        news.get(user)?.push(m.text),
      );
      await c.joinById(record.id, { name: user }, { protocol: echoProtocol });
    }
    expect(cluster[0].app.netloom.broadcast('news', { text: 'all' })).toBe(1);
    await until(() => [...news.values()].every((list) => list.includes('all')), 5_000, 'broadcast');
    cluster[1].app.netloom.multicast({ userIds: ['user0', 'user2'] }, 'news', { text: 'some' });
    await until(
      () => news.get('user0')?.includes('some') === true && news.get('user2')?.includes('some') === true,
    );
    cluster[2].app.netloom.multicast(() => true, 'news', { text: 'local' });
    await until(() => news.get('user2')?.includes('local') === true);
    await new Promise((r) => setTimeout(r, 100));
    expect(news.get('user1')).toEqual(['all']);
    expect(news.get('user0')).toEqual(['all', 'some']);
  });

  it('answers members and shared state of a room from any node, and match_ended for an ended match', async () => {
    const [a, b] = await startCluster(2);
    const record = await b.app.netloom.rooms.create('board');
    expect(record.nodeId).toBe('n2');
    await client(a.url, 'ann').joinById(record.id, {}, { protocol: echoProtocol });
    await client(b.url, 'bob').joinById(record.id, {}, { protocol: echoProtocol });
    const members = await a.app.netloom.rooms.members(record.id);
    expect(members?.map((m) => m.userId)).toEqual(['ann', 'bob']);
    await untilAsync(async () => (await a.app.netloom.rooms.state(record.id))?.joined === 2);
    expect(await a.app.netloom.rooms.state(record.id)).toEqual({ title: 'the board', joined: 2 });
    const mirrored = await drivers.get(a)?.cluster?.readState(record.id);
    expect(mirrored).toEqual({ title: '"the board"', joined: '2' });
    expect(await a.app.netloom.rooms.members('no-such-room')).toBeNull();

    const host = client(b.url, 'host');
    const match = await host.createMatch();
    const guest = await client(a.url, 'guest').joinMatch(match.id);
    expect(guest.id).toBe(match.id);
    await guest.leave();
    await match.leave();
    await until(() => b.app.netloom.metrics().rooms === 1, 5_000, 'match disposed');
    await expect(client(a.url, 'late').joinMatch(match.id)).rejects.toMatchObject({ code: 'match_ended' });
  });

  it('matchmakes players who file through different nodes into one room, joined in one call', async () => {
    const cluster = await startCluster();
    const request = { roomType: 'echo', minPlayers: 3, maxPlayers: 3, query: {}, properties: {} };
    const rooms = await Promise.all(
      cluster.map((node, i) =>
        client(node.url, `m${i}`).matchmakeAndJoin(request, { protocol: echoProtocol }),
      ),
    );
    expect(new Set(rooms.map((r) => r.id)).size).toBe(1);
    const record = await cluster[0].app.netloom.rooms.get(rooms[0].id);
    expect(record).toMatchObject({ clients: 3, private: true });
    const said: string[] = [];
    rooms[2].on('said', (m) => said.push(m.text));
    rooms[2].send('say', { n: 1, text: 'gg' });
    await until(() => said.length === 1, 5_000, 'echo in the matched room');
  });

  it('hands a joinOrCreate for a type this node does not run to a node that runs it', async () => {
    prefix = `t${run++}:`;
    const echoOnly = await startNode('n1', 16, 'echo');
    const boardOnly = await startNode('n2', 16, 'board');
    const ticket = await echoOnly.app.netloom.rooms.joinOrCreate('board', {});
    expect(ticket.url).toBe(boardOnly.url);
    expect(ticket.transports.websocket).toBe(`${boardOnly.url}/netloom/ws`);
    const room = await client(echoOnly.url).joinOrCreate('board', {}, { protocol: echoProtocol });
    expect((await echoOnly.app.netloom.rooms.get(room.id))?.nodeId).toBe('n2');
    await expect(boardOnly.app.netloom.rooms.create('echo')).resolves.toMatchObject({ nodeId: 'n1' });
    await expect(echoOnly.app.netloom.rooms.joinOrCreate('nowhere', {})).rejects.toMatchObject({
      code: 'room_type_unknown',
    });
    await expect(
      echoOnly.app.netloom.rooms.create('echo', { tags: { region: 'eu' } }),
    ).resolves.toMatchObject({
      nodeId: 'n1',
    });
  });

  it('routes destroy to the owning node and answers room_lost for the rooms of a node that stopped heartbeating', async () => {
    const [a, b] = await startCluster(2);
    const onB = await b.app.netloom.rooms.create('echo');
    await a.app.netloom.rooms.destroy(onB.id);
    await until(() => b.app.netloom.metrics().rooms === 0, 5_000, 'dispose on b');
    expect(await a.app.netloom.rooms.get(onB.id)).toBeNull();

    const doomed = await b.app.netloom.rooms.create('echo');
    const member = client(a.url, 'zed');
    const room = await member.joinById(doomed.id, { name: 'zed' }, { protocol: echoProtocol });
    const left: string[] = [];
    room.on('leave', (e) => left.push(e.code));
    // b dies without a goodbye: its heartbeats stop, its sockets close, its registration stays.
    await stopWithoutGoodbye(b);
    await until(() => left.length > 0, 10_000, 'room_lost on the client');
    expect(left).toEqual(['room_lost']);
    const reply = await json(`${a.url}/netloom/rooms/${doomed.id}`);
    expect(reply.status).toBe(410);
    expect(reply.body.code).toBe('room_lost');
    await expect(a.app.netloom.seats.reserve(doomed.id)).rejects.toMatchObject({ code: 'room_lost' });
    expect((await a.app.netloom.cluster?.nodes())?.map((n) => n.id)).toEqual(['n1']);
    // Back in play with one call, on the surviving node.
    const again = await member.joinOrCreate('echo', { name: 'zed' }, { protocol: echoProtocol });
    expect(again.id).not.toBe(doomed.id);
  });

  it('a node that others took for dead ends its rooms with room_lost when it heartbeats again', async () => {
    const [a, b] = await startCluster(2);
    const record = await b.app.netloom.rooms.create('echo');
    const room = await client(b.url).joinById(record.id, {}, { protocol: echoProtocol });
    const left: string[] = [];
    room.on('leave', (e) => left.push(e.code));
    // What a reaper does to a node that paused too long, in one transaction (b's own heartbeat,
    // every 100 ms, must not slip in between): b is forgotten and marked reaped.
    await drivers
      .get(a)
      ?.cluster?.redis.multi()
      .del(`${prefix}node:n2`)
      .srem(`${prefix}nodes`, 'n2')
      .set(`${prefix}reaped:n2`, '1', 'PX', 60_000)
      .exec();
    await until(() => left.length > 0, 5_000, 'room_lost after reap');
    expect(left).toEqual(['room_lost']);
    await until(() => b.app.netloom.metrics().rooms === 0, 5_000, 'rooms ended on b');
    expect((await a.app.netloom.cluster?.nodes())?.map((n) => n.id)).toEqual(['n1', 'n2']);
    expect(b.app.netloom.metrics().rooms).toBe(0);
  });

  it('re-publishes its rooms and seats when Redis loses everything, so seats stay counted', async () => {
    const [a, b] = await startCluster(2, 4);
    const record = await b.app.netloom.rooms.create('echo');
    for (let i = 0; i < 3; i++)
      await client(a.url, `s${i}`).joinById(record.id, {}, { protocol: echoProtocol });
    await drivers.get(a)?.cluster?.redis.flushall();
    let restored: { clients?: number } | null = null;
    await untilAsync(async () => {
      restored = await a.app.netloom.rooms.get(record.id);
      return restored !== null;
    });
    expect(restored).toMatchObject({ clients: 3, nodeId: 'n2' });
    const race = await Promise.allSettled(
      Array.from({ length: 5 }, (_, i) =>
        client(a.url, `r${i}`).joinById(record.id, {}, { protocol: echoProtocol }),
      ),
    );
    expect(race.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    await untilAsync(async () => (await a.app.netloom.cluster?.nodes())?.length === 2);
  });
});

async function untilAsync(check: () => Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const started = Date.now();
  while (!(await check())) {
    if (Date.now() - started > timeoutMs) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * Stops a node the way a crash does: its Redis connections drop (no deregistration, no room removal
 * reaches Redis), its sockets die and it stops listening, so its clients' resumes fail.
 */
async function stopWithoutGoodbye(node: TestServer): Promise<void> {
  const driver = drivers.get(node);
  await driver?.cluster?.close();
  driver?.cluster?.redis.disconnect(false);
  for (const socket of node.app.websocketServer.clients) socket.terminate();
  const closed = new Promise<void>((resolve) => node.app.server.close(() => resolve()));
  node.app.server.closeAllConnections();
  await closed;
}
