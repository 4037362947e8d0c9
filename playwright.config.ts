// Playwright configuration: browser tests in test/browser driving Debian's Chromium (or CHROMIUM_PATH), headless.
import { defineConfig } from '@playwright/test';

export const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Flags every Chromium of the tests starts with: no sandbox (root), no GPU, no background traffic. */
export const baseChromiumArgs = [
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export default defineConfig({
  testDir: 'test/browser',
  testMatch: '**/*.spec.ts',
  workers: 1,
  fullyParallel: false,
  forbidOnly: true,
  retries: 0,
  timeout: 60_000,
  expect: { timeout: 10_000 },
  reporter: 'list',
  outputDir: 'test-results',
  use: {
    browserName: 'chromium',
    headless: true,
    trace: 'off',
    screenshot: 'off',
    launchOptions: {
      executablePath: chromiumPath,
      args: [
        ...baseChromiumArgs,
        // WebRTC between the page and a server on loopback (docs: FIELD-NOTES, werift section).
        '--allow-loopback-in-peer-connection',
        '--disable-features=WebRtcHideLocalIpsWithMdns',
      ],
    },
  },
});
