import { chromium } from 'playwright-core';
import { startDemo } from './serve.ts';
const demo = await startDemo({ port: 0 });
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox','--disable-gpu','--no-first-run','--disable-background-networking','--disable-component-update','--disable-sync'] });
const pages = [];
for (const name of ['ann', 'bob']) {
  const ctx = await browser.newContext({ viewport: { width: 900, height: 700 } });
  const page = await ctx.newPage();
  await page.goto(demo.url + '?name=' + name);
  await page.waitForFunction(() => window.__demo?.status === 'connected' && window.__demo.playerId > 0);
  pages.push(page);
}
await pages[0].evaluate(() => window.__demo!.move(-0.7, -0.7, 1200));
await pages[1].evaluate(() => window.__demo!.move(1, 0.3, 1000));
await pages[0].waitForTimeout(1600);
await pages[1].evaluate(() => window.__demo!.sendMarks(1));
await pages[0].waitForTimeout(250);
await pages[0].screenshot({ path: '/tmp/arena-ann.png' });
await pages[1].screenshot({ path: '/tmp/arena-bob.png' });
console.log(await pages[0].evaluate(() => document.getElementById('hud')!.textContent));
await browser.close(); await demo.close();
