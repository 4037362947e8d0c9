// Three netloom node processes on a real redis-server: seat races, joinOrCreate, broadcast, node death, Redis restart.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { Client, type Room, type WebSocketConstructor } from '../../src/client/index.js';
import type { AnyEndpoints } from '../../src/codec/endpoints.js';
import type { NetloomError } from '../../src/codec/errors.js';
import type { RoomRecord } from '../../src/server/index.js';
import { echoProtocol } from '../helpers/echo-room.js';
import { until } from '../helpers/netloom.js';
import { freePort } from '../helpers/ports.js';
import { testNotices } from './helpers/notices.js';
import {
  killAllNodes,
  NodeStartError,
  type ProcessCluster,
  spawnNode,
  startProcessCluster,
} from './helpers/processes.js';

type TestClient = Client<AnyEndpoints, typeof testNotices>;
type EchoRoom = Room<typeof echoProtocol>;

const clients: TestClient[] = [];

/** A Node client whose control-plane base is `url`; closed after each test. */
function client(url: string): TestClient {
  const c = new Client(url, {
    WebSocket: WebSocket as unknown as WebSocketConstructor,
    notices: testNotices,
    reconnect: { baseDelayMs: 100, maxDelayMs: 300, windowMs: 15_000 },
  }) as TestClient;
  clients.push(c);
  return c;
}

interface Reply {
  status: number;
  body: Record<string, unknown>;
}

/** A JSON request that fails (instead of hanging) after 8 s. */
async function http(url: string, method = 'GET', body?: unknown): Promise<Reply> {
  const response = await fetch(url, {
    method,
    signal: AbortSignal.timeout(8_000),
    ...(body !== undefined
      ? { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }
      : {}),
  });
  const text = await response.text();
  return { status: response.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

/** Creates a room with no seat through node `via`; `on` pins it to that node (by the node's tag). */
async function createRoom(via: string, type: string, on?: string): Promise<RoomRecord> {
  const reply = await http(`${via}/test/rooms`, 'POST', { type, ...(on ? { tags: { node: on } } : {}) });
  expect(reply.status).toBe(200);
  return reply.body as unknown as RoomRecord;
}

async function nodeIds(via: string): Promise<string[]> {
  const reply = await http(`${via}/test/nodes`);
  return (reply.body.nodes as Array<{ id: string }>).map((n) => n.id);
}

/** `count` clients, client i through node i mod 3, racing for seats in `roomId`. */
async function race(cluster: ProcessCluster, roomId: string, count: number) {
  const results = await Promise.allSettled(
    Array.from({ length: count }, (_, i) =>
      client(cluster.nodes[i % cluster.nodes.length].url).joinById(
        roomId,
        { name: `p${i}` },
        { protocol: echoProtocol },
      ),
    ),
  );
  const seated = results.filter((r): r is PromiseFulfilledResult<EchoRoom> => r.status === 'fulfilled');
  const refused = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
  return {
    seated: seated.map((r) => r.value),
    codes: new Set(refused.map((r) => (r.reason as NetloomError).code)),
  };
}

/** Sends `say` and resolves with the echo (proves the room runs and this member is in it). */
async function echo(room: EchoRoom, text: string): Promise<string> {
  const heard: string[] = [];
  const off = room.on('said', (m) => {
    if (m.from === room.clientId) heard.push(m.text);
  });
  room.send('say', { n: 1, text });
  await until(() => heard.length > 0, 5_000, `echo of '${text}'`);
  off();
  return heard[0];
}

afterEach(() => {
  for (const c of clients.splice(0)) c.close();
});

/** On a failed test, prints what the cluster's nodes logged (warnings: heartbeats, reaping, re-publishing). */
function reportLogsOnFailure(cluster: () => ProcessCluster | undefined): void {
  afterEach((context) => {
    const logs = cluster()?.logs();
    if (context.task.result?.state === 'fail' && logs) console.error(logs);
  });
}

afterAll(async () => {
  await killAllNodes();
});

describe('three node processes sharing one redis-server', () => {
  let cluster: ProcessCluster;

  beforeAll(async () => {
    cluster = await startProcessCluster({ nodes: 3 });
  }, 30_000);
  reportLogsOnFailure(() => cluster);

  afterAll(async () => {
    await cluster?.stop();
  });

  it('registers the three nodes, each with its own URL', async () => {
    for (const node of cluster.nodes) expect(await nodeIds(node.url)).toEqual(['n1', 'n2', 'n3']);
    expect(new Set(cluster.nodes.map((n) => n.url)).size).toBe(3);
  });

  it('seats exactly 16 of 50 clients racing through three nodes for one room, every round', async () => {
    for (let round = 0; round < 4; round++) {
      const owner = cluster.nodes[round % 3];
      const room = await createRoom(cluster.nodes[(round + 1) % 3].url, 'echo', owner.nodeId);
      expect(room.nodeId).toBe(owner.nodeId);
      const { seated, codes } = await race(cluster, room.id, 50);
      expect(seated).toHaveLength(16);
      expect(codes).toEqual(new Set(['room_full']));
      // Every seated client talks to the room on its owner, whichever node it asked.
      expect(await echo(seated[0], `round ${round}`)).toBe(`round ${round}`);
      const record = await http(`${cluster.nodes[round % 3].url}/netloom/rooms/${room.id}`);
      expect(record.body).toMatchObject({ clients: 16, reserved: 0, nodeId: owner.nodeId });
      for (const c of clients.splice(0)) c.close();
    }
  });

  it('joinOrCreate from 40 clients through three nodes never over-fills a room', async () => {
    const results = await Promise.allSettled(
      Array.from({ length: 40 }, (_, i) =>
        client(cluster.nodes[i % 3].url).joinOrCreate('small', { name: `j${i}` }, { protocol: echoProtocol }),
      ),
    );
    const joined = results.filter((r): r is PromiseFulfilledResult<EchoRoom> => r.status === 'fulfilled');
    expect(
      results.filter((r) => r.status === 'rejected').map((r) => String((r as PromiseRejectedResult).reason)),
    ).toEqual([]);
    expect(joined).toHaveLength(40);
    const perRoom = new Map<string, number>();
    for (const r of joined) perRoom.set(r.value.id, (perRoom.get(r.value.id) ?? 0) + 1);
    expect(Math.max(...perRoom.values())).toBeLessThanOrEqual(4);
    expect(perRoom.size).toBeGreaterThanOrEqual(10);
    const listed = (await http(`${cluster.nodes[0].url}/netloom/rooms?type=small`)).body
      .rooms as RoomRecord[];
    for (const room of listed) expect(room.clients + room.reserved).toBeLessThanOrEqual(4);
    expect(listed.reduce((n, r) => n + r.clients, 0)).toBe(40);
    // Rooms went to more than one node.
    expect(new Set(listed.map((r) => r.nodeId)).size).toBeGreaterThan(1);
  });

  it('a broadcast from one node reaches the sessions on every node', async () => {
    const heard = new Map<string, string[]>();
    for (const [i, node] of cluster.nodes.entries()) {
      // Base URL on the next node, room pinned to this one: the session is with `node`.
      const c = client(cluster.nodes[(i + 1) % 3].url);
      const room = await createRoom(node.url, 'echo', node.nodeId);
      await c.joinById(room.id, { name: `b${i}` }, { protocol: echoProtocol });
      const got: string[] = [];
      heard.set(node.nodeId, got);
      c.on('news', (m) => got.push(m.text));
    }
    for (const from of cluster.nodes) {
      const reply = await http(`${from.url}/test/broadcast`, 'POST', { text: `from ${from.nodeId}` });
      expect(reply.body.reached).toBe(1);
      await until(
        () => [...heard.values()].every((got) => got.includes(`from ${from.nodeId}`)),
        5_000,
        `broadcast from ${from.nodeId} on every node`,
      );
    }
    for (const got of heard.values()) expect(got).toEqual(['from n1', 'from n2', 'from n3']);
  });

  it('a node stopped with SIGTERM tells its clients, leaves the registry before exiting, and exits 0', async () => {
    const n3 = cluster.nodes[2];
    const room = await createRoom(cluster.nodes[0].url, 'echo', 'n3');
    const member = await client(cluster.nodes[1].url).joinById(
      room.id,
      { name: 'z' },
      { protocol: echoProtocol },
    );
    const left = new Promise<string>((resolve) => member.on('leave', ({ code }) => resolve(code)));
    const exit = await n3.kill('SIGTERM');
    expect(exit).toEqual({ code: 0, signal: null });
    expect(await left).toBe('server_shutdown');
    // Deregistered on the way out: not waiting to be reaped.
    expect(await nodeIds(cluster.nodes[0].url)).toEqual(['n1', 'n2']);
    expect((await http(`${cluster.nodes[1].url}/netloom/rooms/${room.id}`)).status).toBe(404);
  });
});

describe('a node process killed with SIGKILL', () => {
  let cluster: ProcessCluster;

  beforeAll(async () => {
    cluster = await startProcessCluster({ nodes: 3 });
  }, 30_000);
  reportLogsOnFailure(() => cluster);

  afterAll(async () => {
    await cluster?.stop();
  });

  it('is reaped: its rooms answer room_lost, its clients leave with room_lost and get back into play', async () => {
    const [n1, n2, n3] = cluster.nodes;
    const room = await createRoom(n1.url, 'echo', 'n3');
    const spare = await createRoom(n2.url, 'small', 'n3');
    const members: EchoRoom[] = [];
    const players: TestClient[] = [];
    for (let i = 0; i < 4; i++) {
      // Control-plane bases on the survivors: that is whom the clients ask once n3 is gone.
      const c = client(i % 2 === 0 ? n1.url : n2.url);
      players.push(c);
      members.push(await c.joinById(room.id, { name: `k${i}` }, { protocol: echoProtocol }));
    }
    const left = members.map(
      (m) => new Promise<string>((resolve) => m.on('leave', ({ code }) => resolve(code))),
    );
    expect(await echo(members[0], 'before')).toBe('before');

    const exit = await n3.kill('SIGKILL');
    expect(exit.signal).toBe('SIGKILL');

    // Within the reaping bound (nodeTtlMs 1,500 + heartbeatMs 200, plus slack) the survivors give its rooms up.
    const lostBy = async (): Promise<boolean> => {
      const a = await http(`${n1.url}/netloom/rooms/${room.id}`);
      const b = await http(`${n2.url}/netloom/rooms/${spare.id}`);
      return a.status === 410 && b.status === 410;
    };
    const started = Date.now();
    while (!(await lostBy())) {
      if (Date.now() - started > 8_000) throw new Error('rooms of the dead node not lost within 8 s');
      await new Promise((r) => setTimeout(r, 50));
    }
    expect((await http(`${n2.url}/netloom/rooms/${room.id}`)).body).toMatchObject({ code: 'room_lost' });
    expect((await http(`${n1.url}/netloom/rooms/${room.id}/join`, 'POST', {})).body).toMatchObject({
      code: 'room_lost',
    });
    expect(await nodeIds(n1.url)).toEqual(['n1', 'n2']);
    const listed = (await http(`${n2.url}/netloom/rooms`)).body.rooms as RoomRecord[];
    expect(listed.filter((r) => r.nodeId === 'n3')).toEqual([]);

    // Its clients' rooms end with room_lost (not after the 15 s reconnection window).
    expect(await Promise.all(left)).toEqual(['room_lost', 'room_lost', 'room_lost', 'room_lost']);

    // Back into play on a survivor: the matchmaker in one call, and joinOrCreate.
    const rematched = await players[0].matchmakeAndJoin(
      { roomType: 'echo', minPlayers: 1, maxPlayers: 1, joinData: { name: 'k0' } },
      { protocol: echoProtocol },
    );
    const rejoined = await players[1].joinOrCreate('echo', { name: 'k1' }, { protocol: echoProtocol });
    for (const r of [rematched, rejoined]) {
      const record = await http(`${n1.url}/netloom/rooms/${r.id}`);
      expect(['n1', 'n2']).toContain(record.body.nodeId);
      expect(await echo(r, `back ${r.id}`)).toBe(`back ${r.id}`);
    }
  });
});

describe('Redis restarted empty under three node processes', () => {
  let cluster: ProcessCluster;

  beforeAll(async () => {
    cluster = await startProcessCluster({ nodes: 3 });
  }, 30_000);
  reportLogsOnFailure(() => cluster);

  afterAll(async () => {
    await cluster?.stop();
  });

  it('fails ops with driver_unavailable meanwhile, then re-publishes rooms and still never over-fills one', async () => {
    const [n1, , n3] = cluster.nodes;
    const room = await createRoom(n1.url, 'echo', 'n2');
    expect(room.nodeId).toBe('n2');
    const members: EchoRoom[] = [];
    for (let i = 0; i < 5; i++) {
      const c = client(cluster.nodes[i % 3].url);
      members.push(await c.joinById(room.id, { name: `r${i}` }, { protocol: echoProtocol }));
    }

    await cluster.redis.restart(async () => {
      // Redis is down: every op needing it answers 503 driver_unavailable, none hangs.
      for (const node of cluster.nodes) {
        const join = await http(`${node.url}/netloom/rooms/echo/join-or-create`, 'POST', {});
        expect(join.status).toBe(503);
        expect(join.body.code).toBe('driver_unavailable');
        const get = await http(`${node.url}/netloom/rooms/${room.id}`);
        expect(get.status).toBe(503);
        expect(get.body.code).toBe('driver_unavailable');
      }
      await expect(
        client(n3.url).joinById(room.id, { name: 'x' }, { protocol: echoProtocol }),
      ).rejects.toMatchObject({ code: 'driver_unavailable' });
      // The members' sessions are with their node, not with Redis: the room keeps running.
      expect(await echo(members[0], 'during')).toBe('during');
    });

    // Each node re-registers and re-publishes its rooms with their seated members.
    const started = Date.now();
    for (;;) {
      const ids = await nodeIds(n3.url).catch(() => []);
      const record = await http(`${n3.url}/netloom/rooms/${room.id}`).catch(() => null);
      if (ids.length === 3 && record?.status === 200) {
        const { nodeId, clients: seatedCount, reserved } = record.body;
        expect({ nodeId, clients: seatedCount, reserved }).toEqual({ nodeId: 'n2', clients: 5, reserved: 0 });
        break;
      }
      if (Date.now() - started > 10_000) throw new Error('nodes and room not back within 10 s');
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(await nodeIds(n1.url)).toEqual(['n1', 'n2', 'n3']);

    // A race for the 11 remaining seats still seats exactly 11.
    const { seated, codes } = await race(cluster, room.id, 40);
    expect(seated).toHaveLength(11);
    expect(codes).toEqual(new Set(['room_full']));
    const record = await http(`${n1.url}/netloom/rooms/${room.id}`);
    expect(record.body).toMatchObject({ clients: 16, reserved: 0 });
    expect(await echo(members[4], 'after')).toBe('after');
  });
});

describe('a node process whose Redis is unreachable at start', () => {
  it('exits with driver_unavailable instead of hanging', async () => {
    const port = await freePort();
    const failure = await spawnNode({
      env: { REDIS_URL: `redis://127.0.0.1:${port}`, REDIS_CONNECT_TIMEOUT_MS: '1000', NODE_ID: 'lonely' },
    }).then(
      () => null,
      (err: unknown) => err,
    );
    expect(failure).toBeInstanceOf(NodeStartError);
    const { exit, stdout, stderr } = failure as NodeStartError;
    expect(exit?.code).toBe(1);
    expect(stdout).toMatch(/^FAILED \{"code":"driver_unavailable"/m);
    expect(stderr).toContain('netloom node lonely: driver_unavailable');
  });
});
