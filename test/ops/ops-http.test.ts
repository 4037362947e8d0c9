// /healthz and /metrics over real HTTP: shapes, Prometheus text that parses, counters that move with real traffic.
import { afterEach, describe, expect, it } from 'vitest';
import type { Client } from '../../src/client/index.js';
import { NetloomError } from '../../src/codec/errors.js';
import type { Clock, TimerHandle } from '../../src/shared/clock.js';
import { echoProtocol } from '../helpers/echo-room.js';
import { nodeClient, startEchoServer, type TestServer, until } from '../helpers/netloom.js';
import { parsePrometheus, sampleValue } from './prom-parse.js';

const servers: TestServer[] = [];
const clients: Client[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  for (const s of servers.splice(0)) await s.close();
});

async function server(options: Parameters<typeof startEchoServer>[0] = {}): Promise<TestServer> {
  const s = await startEchoServer(options);
  servers.push(s);
  return s;
}

async function scrape(s: TestServer) {
  const res = await fetch(`${s.url}/metrics`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
  return parsePrometheus(await res.text());
}

describe('GET /healthz', () => {
  it('answers 200 with status, node id, sessions and rooms', async () => {
    const s = await server({ nodeId: 'node-a' });
    const empty = await fetch(`${s.url}/healthz`);
    expect(empty.status).toBe(200);
    expect(await empty.json()).toEqual({ status: 'ok', nodeId: 'node-a', sessions: 0, rooms: 0 });

    const client = nodeClient(s.url);
    clients.push(client);
    await client.joinOrCreate('echo', {}, { protocol: echoProtocol });
    const busy = await (await fetch(`${s.url}/healthz`)).json();
    expect(busy).toEqual({ status: 'ok', nodeId: 'node-a', sessions: 1, rooms: 1 });
  });

  it('moves to other paths or goes away through the ops option', async () => {
    const s = await server({ ops: { healthPath: '/netloom/health', metricsPath: false } });
    expect((await fetch(`${s.url}/netloom/health`)).status).toBe(200);
    expect((await fetch(`${s.url}/healthz`)).status).toBe(404);
    expect((await fetch(`${s.url}/metrics`)).status).toBe(404);
  });
});

describe('GET /metrics', () => {
  it('serves sessions, rooms by type, messages and bytes by channel and errors by code as they happen', async () => {
    const s = await server({ nodeId: 'n"1' });
    const before = await scrape(s);
    expect(sampleValue(before, 'netloom_sessions')).toBe(0);
    expect(sampleValue(before, 'netloom_info', { node_id: 'n"1' })).toBe(1);
    expect(sampleValue(before, 'netloom_shutting_down')).toBe(0);
    expect(sampleValue(before, 'process_resident_memory_bytes')).toBeGreaterThan(0);
    expect(before.get('netloom_messages_in_total')?.help).toMatch(/channel/);

    const client = nodeClient(s.url);
    clients.push(client);
    const room = await client.joinOrCreate('echo', {}, { protocol: echoProtocol });
    let said = 0;
    let blipped = 0;
    room.on('said', () => said++);
    room.on('blipped', () => blipped++);
    for (let n = 1; n <= 3; n++) room.send('say', { n, text: 'hi' });
    for (let n = 1; n <= 2; n++) room.send('blip', { n }, { reliable: false });
    await until(() => said === 3 && blipped === 2);
    await expect(client.joinById('no-such-room', {}, { protocol: echoProtocol })).rejects.toBeInstanceOf(
      NetloomError,
    );

    const during = await scrape(s);
    expect(sampleValue(during, 'netloom_sessions')).toBe(1);
    expect(sampleValue(during, 'netloom_rooms', { type: 'echo' })).toBe(1);
    expect(sampleValue(during, 'netloom_messages_in_total', { channel: 'reliable' })).toBe(3);
    expect(sampleValue(during, 'netloom_messages_in_total', { channel: 'unreliable' })).toBe(2);
    expect(sampleValue(during, 'netloom_bytes_in_total', { channel: 'reliable' })).toBeGreaterThan(3 * 4);
    expect(sampleValue(during, 'netloom_bytes_in_total', { channel: 'unreliable' })).toBeGreaterThan(2 * 3);
    // JOINED, hello and three said on the reliable channel; two blipped on the unreliable one
    expect(sampleValue(during, 'netloom_messages_out_total', { channel: 'reliable' })).toBeGreaterThanOrEqual(
      5,
    );
    expect(sampleValue(during, 'netloom_messages_out_total', { channel: 'unreliable' })).toBe(2);
    expect(sampleValue(during, 'netloom_errors_total', { code: 'room_not_found' })).toBe(1);
    expect(sampleValue(during, 'netloom_room_messages_in_total')).toBe(5);
    expect(s.app.netloom.metrics()).toMatchObject({
      sessions: 1,
      rooms: 1,
      'rooms{echo}': 1,
      'messages_in{reliable}': 3,
      'messages_in{unreliable}': 2,
      'errors{room_not_found}': 1,
    });

    // after the session ends its traffic stays counted, and the room is gone from the gauge
    client.close();
    await until(() => s.app.netloom.sessions.count() === 0 && s.log.disposed === 1);
    const after = await scrape(s);
    expect(sampleValue(after, 'netloom_sessions')).toBe(0);
    expect(sampleValue(after, 'netloom_rooms', { type: 'echo' })).toBe(0);
    expect(sampleValue(after, 'netloom_messages_in_total', { channel: 'reliable' })).toBe(3);
    expect(sampleValue(after, 'netloom_messages_in_total', { channel: 'unreliable' })).toBe(2);
    expect(sampleValue(after, 'netloom_rooms_created_total')).toBe(1);
  });

  it('counts tick overruns by room type', async () => {
    const clock = new StallClock();
    const s = await server({ clock, tickRate: 10 });
    await s.app.netloom.rooms.create('echo');
    clock.stall(100); // one tick on time
    expect(s.app.netloom.metrics()['tick_overruns{echo}']).toBeUndefined();
    clock.stall(2_000); // the event loop "stalled" for 20 ticks: the schedule skips ahead
    const parsed = await scrape(s);
    expect(sampleValue(parsed, 'netloom_tick_overruns_total', { type: 'echo' })).toBe(1);
  });
});

/** A clock whose time jumps without firing the timers in between (as a blocked event loop looks to a timer). */
class StallClock implements Clock {
  private time = 0;
  private timers: Array<{ at: number; fn: () => void; id: number }> = [];
  private nextId = 1;
  now(): number {
    return this.time;
  }
  setTimeout(fn: () => void, ms: number): TimerHandle {
    const id = this.nextId++;
    this.timers.push({ at: this.time + Math.max(0, ms), fn, id });
    return id;
  }
  clearTimeout(handle: TimerHandle): void {
    this.timers = this.timers.filter((t) => t.id !== handle);
  }
  stall(ms: number): void {
    this.time += ms;
    const due = this.timers.filter((t) => t.at <= this.time);
    this.timers = this.timers.filter((t) => t.at > this.time);
    for (const t of due) t.fn();
  }
}
