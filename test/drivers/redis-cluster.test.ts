// The Redis ClusterBackend against a real redis-server: registry TTL, one reaper per dead node, sync, bus hygiene.
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ClusterNode } from '../../src/server/cluster/node.js';
import type { ClusterBackend, NodeRecord } from '../../src/server/cluster/types.js';
import type { Driver } from '../../src/server/drivers/driver.js';
import { redisDriver } from '../../src/server/drivers/redis.js';
import { Metrics, silentLogger } from '../../src/server/metrics.js';
import { type RedisInstance, startRedis } from '../helpers/redis.js';

let redis: RedisInstance;
let run = 0;
const drivers: Driver[] = [];

async function backend(prefix: string): Promise<ClusterBackend> {
  const driver = await redisDriver({ url: redis.url, prefix });
  drivers.push(driver);
  if (!driver.cluster) throw new Error('redisDriver has no cluster backend');
  return driver.cluster;
}

function record(id: string, extra: Partial<NodeRecord> = {}): NodeRecord {
  return {
    id,
    url: `http://127.0.0.1:${4000 + Number(id.slice(1))}`,
    roomTypes: ['arena'],
    tags: {},
    capacity: 100,
    load: 0,
    rooms: 0,
    transports: { websocket: '/netloom/ws' },
    startedAt: 1,
    ...extra,
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis?.stop();
});
afterEach(async () => {
  await Promise.all(drivers.splice(0).map((d) => d.close()));
});

describe('redisDriver().cluster', () => {
  it('lists a node while it heartbeats and drops it once its TTL lapses; reports new, ok and reaped', async () => {
    const prefix = `c${run++}:`;
    const cluster = await backend(prefix);
    expect(await cluster.heartbeat(record('n1'), 150)).toBe('new');
    expect(await cluster.heartbeat(record('n1', { load: 7 }), 150)).toBe('ok');
    expect((await cluster.nodes()).map((n) => [n.id, n.load])).toEqual([['n1', 7]]);
    await sleep(250);
    expect(await cluster.nodes()).toEqual([]);
    expect(await cluster.reapLostNodes(60_000)).toEqual([{ nodeId: 'n1', roomIds: [] }]);
    expect(await cluster.heartbeat(record('n1'), 150)).toBe('reaped');
    expect(await cluster.heartbeat(record('n1'), 150)).toBe('ok');
  });

  it('gives each dead node, with its rooms, to exactly one of many concurrent reapers', async () => {
    const prefix = `c${run++}:`;
    const clusters = await Promise.all([1, 2, 3, 4].map(() => backend(prefix)));
    const driver = drivers[drivers.length - 1];
    for (const id of ['d1', 'd2', 'd3']) {
      await clusters[0].heartbeat(record(id), 50);
      for (let r = 0; r < 3; r++) {
        expect(
          await driver.createRoom({
            id: `${id}-r${r}`,
            type: 'arena',
            nodeId: id,
            maxClients: 4,
            createdAt: r,
          }),
        ).toBe('ok');
        expect(await driver.reserveSeat(`${id}-r${r}`, 'seat', Date.now() + 60_000, Date.now())).toBe('ok');
      }
    }
    await clusters[0].heartbeat(record('alive'), 60_000);
    await sleep(120);
    const results = await Promise.all(clusters.map((c) => c.reapLostNodes(60_000)));
    const reaped = results.flat();
    expect(reaped.map((r) => r.nodeId).sort()).toEqual(['d1', 'd2', 'd3']);
    for (const r of reaped) expect(r.roomIds.sort()).toEqual([0, 1, 2].map((i) => `${r.nodeId}-r${i}`));
    expect(await driver.getRoom('d1-r0', Date.now())).toBeNull();
    expect(await driver.listRooms({ type: 'arena' }, Date.now())).toEqual([]);
    expect(await clusters[1].roomGone('d2-r1')).toBe('lost');
    expect(await clusters[1].roomGone('never')).toBeNull();
    expect((await clusters[2].nodes()).map((n) => n.id)).toEqual(['alive']);
  });

  it('syncRooms puts back missing rooms with their seats and state, drops rooms the node no longer runs', async () => {
    const prefix = `c${run++}:`;
    const cluster = await backend(prefix);
    const driver = drivers[0];
    const now = Date.now();
    await driver.createRoom({ id: 'gone', type: 'arena', nodeId: 'n1', maxClients: 4, createdAt: 1 });
    await driver.createRoom({ id: 'kept', type: 'arena', nodeId: 'n1', maxClients: 3, createdAt: 2 });
    await driver.reserveSeat('kept', 'stale', now + 60_000, now);
    await driver.redeemSeat('kept', 'stale', now);
    await cluster.syncRooms('n1', [
      { room: { id: 'kept', type: 'arena', nodeId: 'n1', maxClients: 3, createdAt: 2 }, seated: ['a', 'b'] },
      {
        room: {
          id: 'back',
          type: 'arena',
          nodeId: 'n1',
          maxClients: 2,
          createdAt: 3,
          tags: {},
          data: { map: 'x' },
        },
        seated: ['c'],
        state: { score: '5' },
      },
    ]);
    expect(await driver.getRoom('gone', now)).toBeNull();
    expect(await driver.getRoom('kept', now)).toMatchObject({ clients: 2 });
    expect(await driver.getRoom('back', now)).toMatchObject({
      clients: 1,
      maxClients: 2,
      data: { map: 'x' },
      tags: {},
    });
    expect(await cluster.readState('back')).toEqual({ score: '5' });
    expect(await driver.redeemSeat('back', 'c', now)).toBe('used');
    expect(await driver.reserveSeat('kept', 's3', now + 1_000, now)).toBe('ok');
    expect(await driver.reserveSeat('kept', 's4', now + 1_000, now)).toBe('full');
    await cluster.writeState('back', [
      { key: 'score', value: null },
      { key: 'round', value: '2' },
    ]);
    expect(await cluster.readState('back')).toEqual({ round: '2' });
    await cluster.writeState('nowhere', [{ key: 'x', value: '1' }]);
    expect(await cluster.readState('nowhere')).toBeNull();
  });

  it('ignores garbage on its channels and answers unknown operations with a clear code', async () => {
    const prefix = `c${run++}:`;
    const metrics = new Metrics();
    const nodes = await Promise.all(
      ['n1', 'n2'].map(async (id) => {
        const node = new ClusterNode({
          backend: await backend(prefix),
          nodeId: id,
          serves: () => false,
          options: { heartbeatMs: 100, nodeTtlMs: 300, requestTimeoutMs: 500 },
          record: () => ({ roomTypes: [], load: 0, rooms: 0, transports: { websocket: '' } }),
          onEvent: () => undefined,
          syncRooms: async () => undefined,
          loseRooms: () => undefined,
          log: silentLogger,
          metrics,
        });
        await node.start(`http://127.0.0.1:1${id.slice(1)}`);
        return node;
      }),
    );
    nodes[1].handle({ echo: async (body) => ({ echoed: body }) });
    const raw = new Redis(redis.url);
    for (const junk of [
      '',
      'not json',
      '[]',
      'null',
      '{"k":"q"}',
      '{"k":"r","id":"x"}',
      '{"k":"e","from":1}',
    ]) {
      await raw.publish(`${prefix}node:n2`, junk);
      await raw.publish(`${prefix}all`, junk);
    }
    raw.disconnect();
    expect(await nodes[0].request('n2', 'echo', { a: 1 })).toEqual({ echoed: { a: 1 } });
    await expect(nodes[0].request('n2', 'nope', {})).rejects.toMatchObject({ code: 'request_invalid' });
    await expect(nodes[0].request('n9', 'echo', {})).rejects.toMatchObject({ code: 'node_unavailable' });
    expect(metrics.snapshot().cluster_messages_invalid).toBeGreaterThan(0);
    await Promise.all(nodes.map((n) => n.stop()));
  });
});
