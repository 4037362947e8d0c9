// Two demo tabs on a two-node cluster: they share an arena on the other node, it is SIGKILLed, both rejoin with room_lost.
import { expect, type Page, test } from '@playwright/test';
import { type NodeProcess, spawnNode } from '../cluster/helpers/processes.js';
import { type RedisInstance, startRedis } from '../helpers/redis.js';

const ARENA_NODE = 'demos/cluster/node.ts';

let redis: RedisInstance | null = null;
const nodes: NodeProcess[] = [];

test.beforeAll(async () => {
  redis = await startRedis();
  for (const id of ['n1', 'n2']) {
    nodes.push(
      await spawnNode({
        entry: ARENA_NODE,
        env: {
          REDIS_URL: redis.url,
          REDIS_PREFIX: `arena-cluster-${process.pid}:`,
          NODE_ID: id,
          HEARTBEAT_MS: '200',
          NODE_TTL_MS: '1000',
          WEBTRANSPORT: '0',
        },
      }),
    );
  }
});

test.afterAll(async () => {
  for (const node of nodes) await node.kill('SIGKILL');
  await redis?.stop();
});

const demoOf = (page: Page) =>
  page.evaluate(() => ({
    status: window.__demo?.status,
    roomId: window.__demo?.roomId,
    events: [...(window.__demo?.events ?? [])],
  }));

test('tabs on one node play in an arena on another; when that node dies both are back in play with room_lost', async ({
  browser,
}) => {
  const [entry, owner] = nodes;
  if (!entry || !owner) throw new Error('nodes did not start');
  // An arena on node n2 (its creator's seat simply lapses); quick play through n1 then finds it.
  const created = await fetch(`${owner.url}/netloom/rooms`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ type: 'arena', joinData: { name: 'host' } }),
  });
  expect(created.status).toBe(201);
  const lostRoom = ((await created.json()) as { roomId: string }).roomId;

  const pages: Page[] = [];
  for (const name of ['ann', 'bob']) {
    const page = await (await browser.newContext()).newPage();
    await page.goto(`${entry.url}/?name=${name}&transports=websocket`);
    await page.waitForFunction(() => window.__demo?.status === 'connected' && window.__demo.playerId > 0);
    pages.push(page);
  }
  for (const page of pages) expect((await demoOf(page)).roomId).toBe(lostRoom);

  await owner.kill('SIGKILL');
  for (const page of pages) {
    await page.waitForFunction(
      (lost) =>
        window.__demo?.events.includes('leave:room_lost') === true &&
        window.__demo.status === 'connected' &&
        window.__demo.roomId !== lost,
      lostRoom,
      { timeout: 30_000 },
    );
  }
  const [ann, bob] = await Promise.all(pages.map(demoOf));
  // Quick play through the surviving node put both back into one new arena.
  expect(ann?.roomId).toBe(bob?.roomId);
  const room = await fetch(`${entry.url}/netloom/rooms/${ann?.roomId}`);
  expect(((await room.json()) as { nodeId: string }).nodeId).toBe('n1');
  const gone = await fetch(`${entry.url}/netloom/rooms/${lostRoom}`);
  expect(gone.status).toBe(410);
  for (const page of pages) await page.context().close();
});
