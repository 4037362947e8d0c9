// The demo over WebRTC in Chromium: upgrade on loopback, WebSocket-only browsers, a killed datachannel, forced switches.
import { expect, idOf, move, sendMarks, test, view, waitForPosition, waitForRoster } from './arena.js';
import {
  instrumentWebRtc,
  killNewestPeer,
  rtcCounters,
  waitForTransport,
  withoutModernTransports,
} from './rtc.js';

test.describe('over WebRTC', () => {
  // Thousands of marks in a burst: the per-client message rate limit would (rightly) kick such a client.
  test.use({ demoOptions: { session: { limits: { messagesPerSecond: 0 } } } });

  test('the demo upgrades to WebRTC and both channels carry messages both ways', async ({ join, demo }) => {
    const ann = await join('ann', 'transports=webrtc,websocket', instrumentWebRtc);
    const bob = await join('bob', 'transports=webrtc,websocket', instrumentWebRtc);
    await waitForRoster([ann, bob], ['ann', 'bob']);
    await waitForTransport(ann.page, 'webrtc');
    await waitForTransport(bob.page, 'webrtc');
    const before = await rtcCounters(ann.page);

    // Unreliable both ways: inputs up, state down; reliable both ways: marks up, echoes down.
    const annId = await idOf(bob.page, 'ann');
    const x0 = (await view(bob.page)).positions[annId]?.x ?? 500;
    await move(ann.page, 1, 0, 600);
    await waitForPosition(bob.page, annId, 'right', x0 + 20);
    const last = await sendMarks(ann.page, 20);
    await bob.page.waitForFunction(([id, n]) => (window.__demo?.marksReceived[id] ?? []).includes(n), [
      annId,
      last,
    ] as const);

    const after = await rtcCounters(ann.page);
    for (const label of ['reliable', 'unreliable']) {
      expect(after.sent[label] ?? 0, `${label} sent`).toBeGreaterThan(before.sent[label] ?? 0);
      expect(after.received[label] ?? 0, `${label} received`).toBeGreaterThan(before.received[label] ?? 0);
    }
    expect((await view(ann.page)).transports).toEqual(['websocket', 'webrtc']);
    expect(demo.server.netloom.metrics()['upgrades{webrtc}']).toBe(2);
  });

  test('a browser without RTCPeerConnection and WebTransport plays over WebSocket', async ({
    join,
    demo,
  }) => {
    const old = await join('old', '', withoutModernTransports);
    const ann = await join('ann', 'transports=webrtc,websocket', instrumentWebRtc);
    await waitForRoster([old, ann], ['ann', 'old']);
    await waitForTransport(ann.page, 'webrtc'); // the server does offer WebRTC
    const oldId = await idOf(ann.page, 'old');
    const last = await sendMarks(old.page, 30);
    await ann.page.waitForFunction(([id, n]) => (window.__demo?.marksReceived[id] ?? []).length === n, [
      oldId,
      last,
    ] as const);
    const state = await view(old.page);
    expect(state.transport).toBe('websocket');
    expect(state.transports).toEqual(['websocket']);
    expect(state.stateCount).toBeGreaterThan(0);
    expect(await old.page.evaluate(() => typeof window.RTCPeerConnection)).toBe('undefined');
    // Only ann's session ever started an upgrade.
    expect(demo.server.netloom.metrics().upgrades_started).toBe(1);
  });

  test('a killed datachannel: play continues over WebSocket losing nothing, then returns to WebRTC', async ({
    join,
  }) => {
    const ann = await join('ann', 'transports=webrtc,websocket', instrumentWebRtc);
    await waitForTransport(ann.page, 'webrtc');
    const annId = (await view(ann.page)).playerId;

    await sendMarks(ann.page, 300);
    await killNewestPeer(ann.page);
    await sendMarks(ann.page, 300); // sent while the session falls back
    await waitForTransport(ann.page, 'websocket');
    const last = await sendMarks(ann.page, 300);
    await waitForTransport(ann.page, 'webrtc');

    await ann.page.waitForFunction(([id, n]) => (window.__demo?.marksReceived[id] ?? []).length >= n, [
      annId,
      last,
    ] as const);
    const state = await view(ann.page);
    expect(state.marksReceived[annId]).toEqual(Array.from({ length: last }, (_, i) => i + 1));
    expect(state.transports).toEqual(['websocket', 'webrtc', 'websocket', 'webrtc']);
    expect(state.reconnects).toBe(0);
    expect(state.status).toBe('connected');
  });

  test('10,000 reliable messages each way across two forced switches arrive complete and in order', async ({
    join,
  }) => {
    test.setTimeout(120_000);
    const ann = await join('ann', 'transports=webrtc,websocket', instrumentWebRtc);
    await waitForTransport(ann.page, 'webrtc');
    const annId = (await view(ann.page)).playerId;
    const received = () => ann.page.evaluate((id) => (window.__demo?.marksReceived[id] ?? []).length, annId);

    let sent = 0;
    for (let batch = 1; batch <= 20; batch++) {
      sent = await sendMarks(ann.page, 500);
      if (batch === 5 || batch === 14) await killNewestPeer(ann.page); // two forced switches to WebSocket
      if (batch === 10) await waitForTransport(ann.page, 'webrtc'); // back on WebRTC before the second kill
      // Keep at most ~1,500 marks in flight, so each switch happens with traffic on the wire.
      await ann.page.waitForFunction(
        ([id, n]) => (window.__demo?.marksReceived[id] ?? []).length >= n,
        [annId, sent - 1_500] as const,
        { timeout: 30_000 },
      );
    }
    expect(sent).toBe(10_000);
    await ann.page.waitForFunction(
      ([id, n]) => (window.__demo?.marksReceived[id] ?? []).length >= n,
      [annId, sent] as const,
      { timeout: 30_000 },
    );
    const state = await view(ann.page);
    expect(await received()).toBe(10_000);
    expect(state.marksReceived[annId]).toEqual(Array.from({ length: 10_000 }, (_, i) => i + 1));
    // Each kill moved the session to WebSocket; the first time it came back to WebRTC in between.
    const switches = state.transports.slice(1);
    expect(switches.filter((t) => t === 'websocket').length).toBe(2);
    expect(switches.slice(0, 3)).toEqual(['webrtc', 'websocket', 'webrtc']);
    expect(state.reconnects).toBe(0);
  });
});
