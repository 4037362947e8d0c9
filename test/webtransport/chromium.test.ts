// Chromium's own WebTransport (draft-02) against our QUIC endpoint + HTTP/3 layer + session Link, on loopback.
import { createServer, type Server } from 'node:http';
import { type Browser, chromium } from 'playwright';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LinkCloseInfo } from '../../src/link/link.js';
import { QuicEndpoint } from '../../src/server/transports/webtransport/endpoint.js';
import { H3Connection } from '../../src/server/transports/webtransport/h3-connection.js';
import { acceptWebTransportLink } from '../../src/server/transports/webtransport/link.js';

let endpoint: QuicEndpoint;
let browser: Browser;
let http: Server;
let pageUrl = '';
const refused: number[] = [];
const linkCloses: LinkCloseInfo[] = [];
const requestHeaders: string[][] = [];

const PAGE = `<!doctype html><script>
window.open = async (url, hash) => {
  const out = {};
  try {
    const wt = new WebTransport(url, { serverCertificateHashes: [{ algorithm: 'sha-256', value: new Uint8Array(hash) }] });
    await wt.ready;
    out.maxDatagramSize = wt.datagrams.maxDatagramSize;
    const s = await wt.createBidirectionalStream();
    const w = s.writable.getWriter();
    const r = s.readable.getReader();
    // One length-prefixed reliable frame of 5 bytes; the server link echoes it.
    await w.write(new Uint8Array([5, 1, 2, 3, 4, 5]));
    out.echo = Array.from((await r.read()).value);
    const dw = wt.datagrams.writable.getWriter();
    const dr = wt.datagrams.readable.getReader();
    out.datagrams = 0;
    for (let i = 0; i < 50; i++) {
      await dw.write(new Uint8Array([9, i]));
      const d = await Promise.race([dr.read(), new Promise((res) => setTimeout(() => res(null), 200))]);
      if (d && d.value[1] === i) out.datagrams++;
    }
    wt.close({ closeCode: 0, reason: 'bye' });
    out.closed = await wt.closed;
  } catch (err) {
    out.error = String(err);
  }
  return out;
};
</script>`;

beforeAll(async () => {
  endpoint = await QuicEndpoint.listen({ host: '127.0.0.1' });
  endpoint.onconnection = (conn) => {
    const h3 = new H3Connection(conn, {
      path: '/wt',
      allowedOrigins: [pageUrl.slice(0, -1)],
      idleCloseMs: 100,
    });
    h3.onrefused = (status) => refused.push(status);
    h3.onsession = (session) => {
      requestHeaders.push(session.request.headers.map((h) => h.name));
      acceptWebTransportLink(session).then(
        (link) => {
          link.onframe = (frame, channel) => link.send(channel, frame);
          link.onclose = (info) => linkCloses.push(info);
        },
        () => {},
      );
    };
  };
  http = createServer((_req, res) => {
    res.setHeader('content-type', 'text/html');
    res.end(PAGE);
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const address = http.address();
  pageUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/`;
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  http?.close();
  await endpoint?.close();
});

async function openFromPage(path: string): Promise<Record<string, unknown>> {
  const page = await browser.newPage();
  try {
    await page.goto(pageUrl);
    const url = `https://127.0.0.1:${endpoint.address.port}${path}`;
    const hash = Array.from(endpoint.certificates.current.sha256);
    return (await page.evaluate(
      ([u, h]) => (window as unknown as { open: (u: unknown, h: unknown) => unknown }).open(u, h),
      [url, hash] as const,
    )) as Record<string, unknown>;
  } finally {
    await page.close();
  }
}

describe('Chromium WebTransport', () => {
  it('opens a session with serverCertificateHashes, echoes a reliable frame and datagrams, and closes cleanly', async () => {
    const out = await openFromPage('/wt');
    expect(out.error).toBeUndefined();
    expect(out.echo).toEqual([5, 1, 2, 3, 4, 5]);
    expect(out.datagrams as number).toBeGreaterThanOrEqual(45);
    expect(out.maxDatagramSize as number).toBeGreaterThan(1_000);
    expect(out.closed).toEqual({ closeCode: 0, reason: 'bye' });
    expect(requestHeaders[0]).toEqual(expect.arrayContaining([':method', ':protocol', ':path', 'origin']));
    await expect.poll(() => linkCloses.length).toBe(1);
    expect(linkCloses[0]).toEqual({ code: 'normal', reason: 'bye', local: false });
    await endpoint.whenEmpty();
    expect(endpoint.stats().connections).toBe(0);
  }, 30_000);

  it('is refused with 404 on a wrong path; the connection count returns to zero', async () => {
    const out = await openFromPage('/nope');
    expect(String(out.error)).toMatch(/WebTransport/);
    expect(refused).toContain(404);
    await endpoint.whenEmpty();
    expect(endpoint.stats().connections).toBe(0);
  }, 30_000);
});
