// Reliability across a network outage: a tab offline for 3 s keeps its seat and no reliable message is lost.
import { expect, type Player, sendMarks, test, view, waitForRoster } from './arena.js';

const PER_PHASE = 5;

/** Waits until every tab has received marks 1..total from every sender, then checks exactly once, in order. */
async function expectAllMarks(players: Player[], total: number): Promise<void> {
  const ids = await Promise.all(players.map(async (p) => (await view(p.page)).playerId));
  for (const { page } of players) {
    await page.waitForFunction(
      ([senders, n]) => senders.every((id) => (window.__demo?.marksReceived[id]?.length ?? 0) >= n),
      [ids, total] as const,
      { timeout: 20_000 },
    );
  }
  const expected = Array.from({ length: total }, (_, i) => i + 1);
  for (const { name, page } of players) {
    const received = (await view(page)).marksReceived;
    for (const id of ids) {
      expect(received[id], `marks from player ${id} as seen by ${name}`).toEqual(expected);
    }
  }
}

test('a tab offline for 3 s keeps its seat and every reliable mark arrives exactly once, in order', async ({
  join,
}) => {
  const ann = await join('ann');
  const bob = await join('bob');
  const cat = await join('cat');
  const players = [ann, bob, cat];
  await waitForRoster(players, ['ann', 'bob', 'cat']);
  const before = await view(ann.page);

  // Before: everyone marks.
  for (const { page } of players) await sendMarks(page, PER_PHASE);

  // During: ann's whole context goes offline for 3 s; everyone keeps marking (ann's are buffered).
  await ann.context.setOffline(true);
  for (const { page } of players) await sendMarks(page, PER_PHASE);
  await ann.page.waitForTimeout(1_500);
  for (const { page } of players) await sendMarks(page, PER_PHASE);
  await ann.page.waitForTimeout(1_500);
  const offline = await view(ann.page);
  await ann.context.setOffline(false);

  // After: more marks.
  for (const { page } of players) await sendMarks(page, PER_PHASE);
  await expectAllMarks(players, 4 * PER_PHASE);

  // Ann kept her seat: same client id and player id, never left, and the others still list her, online.
  await waitForRoster(players, ['ann', 'bob', 'cat']);
  const after = await view(ann.page);
  expect(after.clientId).toBe(before.clientId);
  expect(after.playerId).toBe(before.playerId);
  expect(after.status).toBe('connected');
  expect(after.left).toBeNull();
  for (const { page } of [bob, cat]) {
    const state = await view(page);
    expect(state.roster.find((p) => p.name === 'ann')?.id).toBe(before.playerId);
    expect(state.events).toEqual(['joined']);
  }
  expect(after.events.filter((e) => e.startsWith('leave'))).toEqual([]);
  // What the link did while offline (Chromium may or may not cut open WebSockets): see the test output.
  console.log(
    `offline: status while offline=${offline.status}; ann's events=${JSON.stringify(after.events)}; ` +
      `reconnects=${after.reconnects}`,
  );
});
