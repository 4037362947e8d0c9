// The demo's lobby uses the matchmaker: two `?play=duel` tabs land together in a private arena, apart from quick play.
import { expect, test, view, waitForRoster } from './arena.js';

test('two duel tabs are matched into one private arena; a quick-play tab is not put in it', async ({
  join,
  demo,
}) => {
  const quick = await join('quinn');
  // Each duel tab waits in the matchmaker until the other arrives, so both open at once.
  const [ann, bob] = await Promise.all([join('ann', 'play=duel'), join('bob', 'play=duel')]);
  await waitForRoster([ann, bob], ['ann', 'bob']);

  const [a, b, q] = await Promise.all([view(ann.page), view(bob.page), view(quick.page)]);
  expect(a.mode).toBe('duel');
  expect(a.roomId).toBe(b.roomId);
  expect(q.roomId).not.toBe(a.roomId);
  expect(q.roster.map((p) => p.name)).toEqual(['quinn']);

  const duelRoom = await demo.server.netloom.rooms.get(a.roomId ?? '');
  expect(duelRoom?.private).toBe(true);
  expect(duelRoom?.clients).toBe(2);
  // The matchmade room is not listed, so quick play and room browsers never see it.
  const listed = await demo.server.netloom.rooms.list({ type: 'arena' });
  expect(listed.map((r) => r.id)).toEqual([q.roomId]);
});
