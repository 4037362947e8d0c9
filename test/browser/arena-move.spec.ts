// Players in separate tabs join the arena demo and see each other move.
import { expect, idOf, test, view, waitForPosition, waitForRoster } from './arena.js';

test('two tabs join and each sees the other move', async ({ join }) => {
  const ann = await join('ann');
  const bob = await join('bob');
  await waitForRoster([ann, bob], ['ann', 'bob']);

  const annId = await idOf(bob.page, 'ann');
  const bobId = await idOf(ann.page, 'bob');
  expect(annId).not.toBe(bobId);
  expect((await view(ann.page)).playerId).toBe(annId);
  expect((await view(bob.page)).playerId).toBe(bobId);

  // Both spawn in the middle; ann heads right, bob heads down.
  await Promise.all([
    ann.page.evaluate(() => window.__demo!.move(1, 0, 1500)),
    bob.page.evaluate(() => window.__demo!.move(0, 1, 1500)),
  ]);
  await waitForPosition(bob.page, annId, 'right', 600);
  await waitForPosition(ann.page, bobId, 'down', 600);
  // Each also sees itself move, through the server's authoritative state.
  await waitForPosition(ann.page, annId, 'right', 600);
  await waitForPosition(bob.page, bobId, 'down', 600);

  for (const player of [ann, bob]) {
    const state = await view(player.page);
    expect(['websocket', 'webrtc', 'webtransport']).toContain(state.transport);
    expect(state.ack).toBeGreaterThan(0);
    expect(state.events).toEqual(['joined']);
  }
});

test('four tabs see each other', async ({ join }) => {
  const names = ['ann', 'bob', 'cat', 'dan'];
  const players = [];
  for (const name of names) players.push(await join(name));
  await waitForRoster(players, names);

  const ids = new Map<string, number>();
  for (const name of names) ids.set(name, await idOf(players[0]!.page, name));
  expect(new Set(ids.values()).size).toBe(4);
  for (const { page } of players) {
    const state = await view(page);
    expect(state.roster.map((p) => [p.name, p.id]).sort()).toEqual([...ids.entries()].sort());
  }

  // Each player heads a different way; every tab sees all four moves.
  const ways = [
    [1, 0, 'right', 600],
    [-1, 0, 'left', 400],
    [0, 1, 'down', 600],
    [0, -1, 'up', 400],
  ] as const;
  await Promise.all(
    players.map((player, i) => {
      const [dx, dy] = ways[i]!;
      return player.page.evaluate(([x, y]) => window.__demo!.move(x, y, 1500), [dx, dy] as const);
    }),
  );
  for (const watcher of players) {
    for (const [i, name] of names.entries()) {
      const [, , direction, beyond] = ways[i]!;
      await waitForPosition(watcher.page, ids.get(name)!, direction, beyond);
    }
  }
});
