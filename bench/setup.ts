// Connection setup in Chromium: join (the click) to first state message and to the WebRTC / WebTransport upgrade; JSON lines.
// Env: RUNS (default 15), CHROMIUM_PATH. Runs the arena demo in-process on a free port; one fresh browser context per run.
import { chromium } from 'playwright-core';
import { startDemo } from '../demos/arena/serve.js';

const RUNS = Number(process.env.RUNS ?? 15);
const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

function summary(name: string, values: number[]): Record<string, unknown> {
  const round = (v: number) => Math.round(v * 10) / 10;
  return {
    bench: 'setup',
    measure: name,
    runs: values.length,
    p50_ms: round(percentile(values, 50)),
    p95_ms: round(percentile(values, 95)),
    min_ms: round(Math.min(...values)),
    max_ms: round(Math.max(...values)),
  };
}

async function main(): Promise<void> {
  const demo = await startDemo({ port: 0 });
  const browser = await chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--allow-loopback-in-peer-connection',
      '--disable-features=WebRtcHideLocalIpsWithMdns',
    ],
  });
  const joinToFirstState: Record<string, number[]> = { websocket: [], webrtc: [], webtransport: [] };
  const joinToUpgrade: Record<string, number[]> = { webrtc: [], webtransport: [] };
  try {
    for (let run = 0; run < RUNS; run++) {
      for (const transports of ['websocket', 'webrtc,websocket', 'webtransport,websocket']) {
        const context = await browser.newContext();
        const page = await context.newPage();
        await page.goto(`${demo.url}?name=bench${run}&transports=${transports}&join=manual`);
        // The "click": once the page has loaded and settled, as a player would press Play.
        await page.waitForLoadState('load');
        await page.waitForFunction(() => document.readyState === 'complete' && window.__demo !== undefined);
        await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
        await page.evaluate(() => window.__demo?.join());
        const upgrading = transports !== 'websocket';
        await page.waitForFunction(
          (waitUpgrade) => {
            const d = window.__demo;
            return !!d && d.timings.firstState !== null && (!waitUpgrade || d.timings.upgraded !== null);
          },
          upgrading,
          { timeout: 15_000 },
        );
        const t = await page.evaluate(() => window.__demo?.timings);
        const key = transports.split(',')[0];
        if (t?.firstState != null && t.started != null) joinToFirstState[key].push(t.firstState - t.started);
        if (upgrading && t?.upgraded != null && t.started != null) {
          joinToUpgrade[key].push(t.upgraded - t.started);
        }
        await context.close();
      }
    }
  } finally {
    await browser.close();
    await demo.close();
  }
  const env = { node: process.version, chromium: browser.version() };
  const line = (name: string, values: number[], transport: string) =>
    console.log(JSON.stringify({ ...summary(name, values), transport, ...env }));
  line('join_to_first_state', joinToFirstState.websocket, 'websocket');
  line('join_to_first_state', joinToFirstState.webrtc, 'webrtc-preferred');
  line('join_to_first_state', joinToFirstState.webtransport, 'webtransport-preferred');
  line('join_to_upgrade_complete', joinToUpgrade.webrtc, 'webrtc');
  line('join_to_upgrade_complete', joinToUpgrade.webtransport, 'webtransport');
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
