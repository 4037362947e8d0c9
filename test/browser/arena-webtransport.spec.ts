// The demo over WebTransport in Chromium: upgrade with serverCertificateHashes, both channels carry the game, and
// when the server's HTTP/3 listener stops mid-game, play goes on over WebSocket with no reliable message lost.
import { expect, idOf, move, sendMarks, test, view, waitForPosition, waitForRoster } from './arena.js';
import { waitForTransport } from './rtc.js';

test.use({ demoOptions: { session: { limits: { messagesPerSecond: 0 } } } });

test('the demo upgrades to WebTransport and both channels carry the game both ways', async ({
  join,
  demo,
}) => {
  const ann = await join('ann');
  const bob = await join('bob');
  await waitForRoster([ann, bob], ['ann', 'bob']);
  await waitForTransport(ann.page, 'webtransport');
  await waitForTransport(bob.page, 'webtransport');
  const frames = () => demo.server.netloom.metrics();
  const before = frames();

  const annId = await idOf(bob.page, 'ann');
  const x0 = (await view(bob.page)).positions[annId]?.x ?? 500;
  await move(ann.page, 1, 0, 600); // unreliable inputs up, unreliable state down
  await waitForPosition(bob.page, annId, 'right', x0 + 20);
  const last = await sendMarks(ann.page, 20); // reliable both ways
  await bob.page.waitForFunction(([id, n]) => (window.__demo?.marksReceived[id] ?? []).includes(n), [
    annId,
    last,
  ] as const);

  const after = frames();
  for (const key of [
    'webtransport_frames_in{reliable}',
    'webtransport_frames_in{unreliable}',
    'webtransport_frames_out{reliable}',
    'webtransport_frames_out{unreliable}',
  ]) {
    expect(after[key] ?? 0, key).toBeGreaterThan(before[key] ?? 0);
  }
  expect((await view(ann.page)).transports).toEqual(['websocket', 'webtransport']);
  expect(after['upgrades{webtransport}']).toBe(2);
});

test('the HTTP/3 listener stops mid-game: play continues over WebSocket and no reliable message is lost', async ({
  join,
  demo,
}) => {
  const ann = await join('ann');
  await waitForTransport(ann.page, 'webtransport');
  const annId = (await view(ann.page)).playerId;

  await sendMarks(ann.page, 300);
  await demo.server.netloom.webtransport?.close(); // UDP gone: every QUIC connection ends
  await sendMarks(ann.page, 300);
  await ann.page.waitForFunction(() => window.__demo?.transport !== 'webtransport', undefined, {
    timeout: 20_000,
  });
  const last = await sendMarks(ann.page, 300);

  await ann.page.waitForFunction(
    ([id, n]) => (window.__demo?.marksReceived[id] ?? []).length >= n,
    [annId, last] as const,
    { timeout: 20_000 },
  );
  const state = await view(ann.page);
  expect(state.marksReceived[annId]).toEqual(Array.from({ length: last }, (_, i) => i + 1));
  expect(state.transports.slice(0, 3)).toEqual(['websocket', 'webtransport', 'websocket']);
  expect(state.reconnects).toBe(0);
  expect(state.status).toBe('connected');
});
