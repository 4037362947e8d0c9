// A tab that closes for good disappears from the other players' roster and view.
import { expect, idOf, test, view, waitForRoster } from './arena.js';

test('a closed tab disappears from the others', async ({ join }) => {
  const ann = await join('ann');
  const bob = await join('bob');
  const cat = await join('cat');
  await waitForRoster([ann, bob, cat], ['ann', 'bob', 'cat']);
  const catId = await idOf(ann.page, 'cat');

  await cat.page.close();

  await waitForRoster([ann, bob], ['ann', 'bob']);
  for (const { page } of [ann, bob]) {
    // The next state no longer carries cat's position.
    await page.waitForFunction((id) => !(id in (window.__demo?.positions ?? {})), catId);
    const state = await view(page);
    expect(state.roster.map((p) => p.name).sort()).toEqual(['ann', 'bob']);
    expect(state.status).toBe('connected');
  }
});
