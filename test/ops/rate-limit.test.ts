// Per-client limits over a real WebSocket: message rate (warning notice, then a kick) and message size.
import { afterEach, describe, expect, it } from 'vitest';
import type { Client } from '../../src/client/index.js';
import { ManualClock } from '../../src/shared/clock.js';
import { echoProtocol } from '../helpers/echo-room.js';
import { nodeClient, startEchoServer, type TestServer, until } from '../helpers/netloom.js';

const servers: TestServer[] = [];
const clients: Client[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  for (const s of servers.splice(0)) await s.close();
});

async function setup(options: Parameters<typeof startEchoServer>[0]) {
  const s = await startEchoServer(options);
  servers.push(s);
  const c = nodeClient(s.url);
  clients.push(c);
  const notices: Array<{ code: string; message: string }> = [];
  c.on('notice', (n) => notices.push(n));
  const room = await c.joinOrCreate('echo', {}, { protocol: echoProtocol });
  let leave: { code: string; reason: string } | null = null;
  room.on('leave', (l) => {
    leave = l;
  });
  const received = () => [...s.log.received.values()].flat().length;
  return { s, c, room, notices, received, left: () => leave };
}

describe('message rate per session', () => {
  it('warns with a message_rate_exceeded notice, then kicks a client that keeps flooding', async () => {
    // The server's clock only moves when the test says so: the token bucket refills deterministically.
    const clock = new ManualClock();
    const { s, room, notices, received, left } = await setup({
      clock,
      session: { limits: { messagesPerSecond: 10, messageBurst: 5, rateGraceMs: 1_000 } },
    });
    let blipped = 0;
    room.on('blipped', () => blipped++);

    for (let n = 1; n <= 5; n++) room.send('say', { n, text: 'ok' });
    await until(() => received() === 5, 5_000, 'the burst');
    expect(notices).toEqual([]);

    // one more, unreliable this time: both channels count against the same rate
    room.send('blip', { n: 1 }, { reliable: false });
    await until(() => notices.length === 1, 5_000, 'the warning');
    expect(notices[0].code).toBe('message_rate_exceeded');
    expect(blipped).toBe(0); // dropped, not handled
    expect(s.app.netloom.metrics()).toMatchObject({ messages_rate_limited: 1, rate_limit_warnings: 1 });
    expect(left()).toBeNull();

    // a second later the bucket holds its burst again, but the client floods past it: kicked
    clock.advance(1_000);
    for (let n = 6; n <= 11; n++) room.send('say', { n, text: 'flood' });
    await until(() => left() !== null, 5_000, 'the kick');
    expect(left()).toMatchObject({ code: 'message_rate_exceeded' });
    expect(received()).toBe(10);
    expect(s.log.leaves).toEqual([{ id: s.log.joins[0], reason: 'kicked' }]);
    expect(s.app.netloom.metrics()['errors{message_rate_exceeded}']).toBe(1);
    await until(() => s.app.netloom.sessions.count() === 0, 5_000, 'session gone');
  });

  it('is on by default: a burst far over 240 messages draws the warning', async () => {
    const { s, room, notices, received } = await setup({ session: { limits: {} } });
    for (let n = 1; n <= 600; n++) room.send('say', { n, text: 'x' });
    await until(() => notices.length > 0, 10_000, 'the warning');
    expect(notices[0].code).toBe('message_rate_exceeded');
    expect(received()).toBeLessThan(600);
    expect(s.app.netloom.metrics()['messages_rate_limited']).toBeGreaterThan(0);
  });

  it('never limits a client when the rate limit is off', async () => {
    const { room, notices, received, left } = await setup({ session: { limits: { messagesPerSecond: 0 } } });
    for (let n = 1; n <= 400; n++) room.send('say', { n, text: 'x' });
    await until(() => received() === 400, 10_000, 'all messages');
    expect(notices).toEqual([]);
    expect(left()).toBeNull();
  });
});

describe('message size per client', () => {
  it('ends the session with message_too_large when a client sends a message over the limit', async () => {
    const { s, room, received, left } = await setup({ session: { limits: { maxMessageBytes: 200 } } });
    room.send('say', { n: 1, text: 'x'.repeat(100) });
    await until(() => received() === 1, 5_000, 'the small message');
    room.send('say', { n: 2, text: 'x'.repeat(300) });
    await until(() => left() !== null, 5_000, 'the close');
    expect(left()).toMatchObject({ code: 'message_too_large' });
    expect(received()).toBe(1);
    expect(s.app.netloom.metrics()['errors{message_too_large}']).toBe(1);
  });
});
