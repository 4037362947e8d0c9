// Playwright helpers for the arena demo: start it in-process on a free port, open players, read window.__demo.
import { type Browser, type BrowserContext, test as base, type Page } from '@playwright/test';
import type { DemoDebug } from '../../demos/arena/client/debug.js';
import { type Demo, type DemoOptions, startDemo } from '../../demos/arena/serve.js';

/** window.__demo without its functions: what page.evaluate can hand back. */
export type DemoView = Omit<DemoDebug, 'sendMarks' | 'move' | 'leave' | 'join'>;

export interface Player {
  name: string;
  context: BrowserContext;
  page: Page;
}

export { type Demo, startDemo };

/**
 * Opens the demo as `name` in its own browser context (so it can go offline alone) and waits until it has
 * joined; `query` adds to the page's querystring (e.g. `play=duel`); `prepare` runs on the new context before
 * the page loads (init scripts).
 */
export async function openPlayer(
  browser: Browser,
  demo: Demo,
  name: string,
  query = '',
  prepare?: (context: BrowserContext) => Promise<void>,
): Promise<Player> {
  const context = await browser.newContext({ viewport: { width: 640, height: 640 } });
  if (prepare) await prepare(context);
  const page = await context.newPage();
  page.on('pageerror', (err) => console.error(`[${name}] page error:`, err));
  await page.goto(`${demo.url}?name=${encodeURIComponent(name)}${query ? `&${query}` : ''}`);
  await page.waitForFunction(() => window.__demo?.status === 'connected' && window.__demo.playerId > 0);
  return { name, context, page };
}

/** A snapshot of the player's debug state. */
export function view(page: Page): Promise<DemoView> {
  return page.evaluate(() => {
    const { sendMarks: _s, move: _m, leave: _l, join: _j, ...rest } = window.__demo!;
    return JSON.parse(JSON.stringify(rest)) as DemoView;
  });
}

/** Waits until every player's roster lists exactly `names` (in any order), all online. */
export async function waitForRoster(players: Player[], names: string[]): Promise<void> {
  const want = [...names].sort();
  for (const { page } of players) {
    await page.waitForFunction(
      (expected) => {
        const roster = window.__demo?.roster ?? [];
        const got = roster.map((p) => p.name).sort();
        return roster.every((p) => p.online) && JSON.stringify(got) === JSON.stringify(expected);
      },
      want,
      { timeout: 15_000 },
    );
  }
}

/** Player id of `name` as `page` knows it from its roster. */
export async function idOf(page: Page, name: string): Promise<number> {
  const roster = (await view(page)).roster;
  const entry = roster.find((p) => p.name === name);
  if (!entry) throw new Error(`${name} is not in the roster: ${JSON.stringify(roster)}`);
  return entry.id;
}

/** Steers the player in direction (dx, dy) for `ms`. */
export function move(page: Page, dx: number, dy: number, ms: number): Promise<void> {
  return page.evaluate(([x, y, t]) => window.__demo!.move(x, y, t), [dx, dy, ms] as const);
}

/** Sends `count` reliable marks; returns the number of the last one. */
export function sendMarks(page: Page, count: number): Promise<number> {
  return page.evaluate((n) => window.__demo!.sendMarks(n), count);
}

/** Waits until `page` sees player `id` at a position that satisfies `test` (x, y in world units). */
export async function waitForPosition(
  page: Page,
  id: number,
  test: 'right' | 'left' | 'down' | 'up',
  beyond: number,
): Promise<void> {
  await page.waitForFunction(
    ([playerId, direction, limit]) => {
      const at = window.__demo?.positions[playerId];
      if (!at) return false;
      if (direction === 'right') return at.x > limit;
      if (direction === 'left') return at.x < limit;
      if (direction === 'down') return at.y > limit;
      return at.y < limit;
    },
    [id, test, beyond] as const,
    { timeout: 15_000 },
  );
}

/** Closes every player's context (pages included). */
export async function closeAll(players: Player[]): Promise<void> {
  await Promise.all(players.map((p) => p.context.close().catch(() => {})));
}

/**
 * `test` with fixtures: `demo`, a fresh demo server on a free port (closed after the test; `demoOptions`, set
 * with `test.use`, tunes it), and `join(name)`, which opens a player in its own browser context (every context
 * is closed after the test).
 */
export const test = base.extend<{
  demoOptions: DemoOptions;
  demo: Demo;
  join: (
    name: string,
    query?: string,
    prepare?: (context: BrowserContext) => Promise<void>,
  ) => Promise<Player>;
}>({
  demoOptions: [{}, { option: true }],
  demo: async ({ demoOptions }, use) => {
    const demo = await startDemo({ ...demoOptions, port: 0 });
    try {
      await use(demo);
    } finally {
      await demo.close();
    }
  },
  join: async ({ browser, demo }, use) => {
    const opened: Player[] = [];
    try {
      await use(async (name, query, prepare) => {
        const player = await openPlayer(browser, demo, name, query, prepare);
        opened.push(player);
        return player;
      });
    } finally {
      await closeAll(opened);
    }
  },
});

export { expect } from '@playwright/test';
