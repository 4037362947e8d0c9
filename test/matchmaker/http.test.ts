// Matchmaking over real HTTP and WebSockets: clients matchmake, get seats, and end up in one room.
import { afterEach, describe, expect, it } from 'vitest';
import type { Client, Room } from '../../src/client/index.js';
import { NetloomError } from '../../src/codec/errors.js';
import type { CreateServerOptions } from '../../src/server/index.js';
import { echoProtocol } from '../helpers/echo-room.js';
import { nodeClient, startEchoServer, type TestServer, until } from '../helpers/netloom.js';

const servers: TestServer[] = [];
const clients: Client[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  for (const s of servers.splice(0)) await s.close();
});

async function server(
  options: Partial<CreateServerOptions> & { maxClients?: number } = {},
): Promise<TestServer> {
  const s = await startEchoServer({
    ...options,
    matchmaker: { intervalMs: 20, ...options.matchmaker },
    // fetch (undici) may leave a connection open that never sent a request after an abort; close it too.
    fastify: { forceCloseConnections: true },
  });
  servers.push(s);
  return s;
}

function client(s: TestServer, headers?: Record<string, string>): Client {
  const c = nodeClient(s.url, headers ? { headers } : {});
  clients.push(c);
  return c;
}

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof NetloomError) return err.code;
    throw err;
  }
  return 'ok';
}

/** Servers that authenticate by an `x-user` header (anonymous requests refused). */
const byHeader: CreateServerOptions['authenticate'] = (request) => {
  const userId = request.headers['x-user'];
  return typeof userId === 'string' ? { userId, data: { name: userId } } : null;
};

describe('matchmaking over HTTP', () => {
  it('seats four matchmaking clients together in one new room', async () => {
    const s = await server();
    const players = [0, 1, 2, 3].map(() => client(s));
    const results = await Promise.all(
      players.map((c) => c.matchmake({ roomType: 'echo', minPlayers: 4, maxPlayers: 4 })),
    );
    const roomId = results[0].roomId;
    expect(results.every((r) => r.roomId === roomId && r.seat.roomId === roomId)).toBe(true);
    expect(results.every((r) => Object.keys(r.party).length === 0)).toBe(true);
    expect(new Set(results.map((r) => r.seat.seat)).size).toBe(4);
    const rooms: Array<Room<typeof echoProtocol>> = await Promise.all(
      players.map((c, i) => c.join(results[i].seat, { protocol: echoProtocol })),
    );
    expect(rooms.every((r) => r.id === roomId)).toBe(true);
    await until(() => s.log.joins.length === 4, 5_000, 'four joins');
    const heard: number[] = [];
    rooms[3].on('said', (m) => heard.push(m.n));
    rooms[0].send('say', { n: 7, text: 'gg' });
    await until(() => heard.length === 1, 5_000, 'broadcast');
    expect(heard).toEqual([7]);
    // The match room is private: joinOrCreate does not fill it.
    const other = await s.app.netloom.rooms.joinOrCreate('echo', {});
    expect(other.roomId).not.toBe(roomId);
  });

  it('delivers a party`s seats to its leader, and every member lands in the same room', async () => {
    const s = await server({ authenticate: byHeader });
    const ann = client(s, { 'x-user': 'ann' });
    const bob = client(s, { 'x-user': 'bob' });
    const cat = client(s, { 'x-user': 'cat' });
    const [lead, solo] = await Promise.all([
      ann.matchmake({ roomType: 'echo', minPlayers: 3, maxPlayers: 3, party: ['ann', 'bob'] }),
      cat.matchmake({ roomType: 'echo', minPlayers: 3, maxPlayers: 3 }),
    ]);
    expect(Object.keys(lead.party)).toEqual(['bob']);
    expect(lead.party.bob.roomId).toBe(lead.roomId);
    expect(solo.roomId).toBe(lead.roomId);
    const rooms = await Promise.all([
      ann.join(lead.seat, { protocol: echoProtocol }),
      bob.join(lead.party.bob, { protocol: echoProtocol }),
      cat.join(solo.seat, { protocol: echoProtocol }),
    ]);
    expect(new Set(rooms.map((r) => r.id))).toEqual(new Set([lead.roomId]));
    await until(() => s.log.joins.length === 3, 5_000, 'three joins');
  });

  it('cancels the ticket when the caller aborts', async () => {
    const s = await server();
    const abort = new AbortController();
    const pending = client(s).matchmake(
      { roomType: 'echo', minPlayers: 2, maxPlayers: 2 },
      { signal: abort.signal },
    );
    await until(() => s.app.netloom.matchmaker.stats().pending === 1, 5_000, 'ticket filed');
    abort.abort();
    expect(await codeOf(pending)).toBe('ticket_cancelled');
    await until(() => s.app.netloom.matchmaker.stats().pending === 0, 5_000, 'ticket cancelled');
    expect(s.app.netloom.metrics()['matchmaker_tickets{ticket_cancelled}']).toBe(1);
    // A later player does not match the cancelled ticket.
    const already = new AbortController();
    already.abort();
    expect(
      await codeOf(
        client(s).matchmake({ roomType: 'echo', minPlayers: 2, maxPlayers: 2 }, { signal: already.signal }),
      ),
    ).toBe('ticket_cancelled');
  });

  it('rejects with ticket_timeout when no match comes in time', async () => {
    const s = await server({ matchmaker: { ticketTimeoutMs: 100 } });
    const c = client(s);
    expect(
      await codeOf(c.matchmake({ roomType: 'echo', minPlayers: 2, maxPlayers: 2 }, { pollWaitMs: 50 })),
    ).toBe('ticket_timeout');
  });

  it('refuses bad tickets with ticket_invalid and too many tickets with ticket_limit', async () => {
    const s = await server({ authenticate: byHeader, matchmaker: { ticketsPerUser: 2 } });
    const ann = client(s, { 'x-user': 'ann' });
    expect(await codeOf(ann.matchmake({ roomType: 'nope', minPlayers: 2, maxPlayers: 2 }))).toBe(
      'ticket_invalid',
    );
    expect(await codeOf(ann.matchmake({ roomType: 'echo', minPlayers: 3, maxPlayers: 2 }))).toBe(
      'ticket_invalid',
    );
    const aborts = [new AbortController(), new AbortController()];
    const held = aborts.map((a) =>
      ann.matchmake({ roomType: 'echo', minPlayers: 8, maxPlayers: 8 }, { signal: a.signal }),
    );
    await until(() => s.app.netloom.matchmaker.stats().pending === 2, 5_000, 'two tickets');
    expect(await codeOf(ann.matchmake({ roomType: 'echo', minPlayers: 8, maxPlayers: 8 }))).toBe(
      'ticket_limit',
    );
    for (const a of aborts) a.abort();
    expect(await Promise.all(held.map(codeOf))).toEqual(['ticket_cancelled', 'ticket_cancelled']);
    expect(await codeOf(client(s).matchmake({ roomType: 'echo', minPlayers: 2, maxPlayers: 2 }))).toBe(
      'auth_required',
    );
  });
});

describe('matchmaker routes', () => {
  const post = (s: TestServer, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${s.url}/netloom/matchmaker/tickets`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });

  it('files, long-polls and cancels a ticket; only its owner may see it', async () => {
    const s = await server();
    const filed = await post(s, { roomType: 'echo', minPlayers: 2, maxPlayers: 2 });
    expect(filed.status).toBe(200);
    const { ticketId, owner } = (await filed.json()) as { ticketId: string; owner: string };
    const url = `${s.url}/netloom/matchmaker/tickets/${ticketId}`;
    const poll = await fetch(`${url}?waitMs=10`, { headers: { 'x-netloom-owner': owner } });
    expect(await poll.json()).toEqual({ status: 'pending' });
    const stranger = await fetch(url, { headers: { 'x-netloom-owner': 'someone-else-123' } });
    expect(stranger.status).toBe(404);
    expect(((await stranger.json()) as { code: string }).code).toBe('ticket_not_found');
    expect((await fetch(url)).status).toBe(404); // anonymous without the owner id
    const del = await fetch(url, { method: 'DELETE', headers: { 'x-netloom-owner': owner } });
    expect(await del.json()).toEqual({ cancelled: true });
    const after = await fetch(url, { headers: { 'x-netloom-owner': owner } });
    expect(after.status).toBe(410);
    expect(((await after.json()) as { code: string }).code).toBe('ticket_cancelled');
    const missing = await fetch(`${s.url}/netloom/matchmaker/tickets/nope`, { method: 'DELETE' });
    expect(missing.status).toBe(404);
  });

  it('rate-limits ticket filing per IP with rate_limited', async () => {
    const s = await server({ matchmaker: { ticketRatePerIp: { perSecond: 0.001, burst: 2 } } });
    const body = { roomType: 'echo', minPlayers: 8, maxPlayers: 8 };
    expect((await post(s, body)).status).toBe(200);
    expect((await post(s, body)).status).toBe(200);
    const refused = await post(s, body);
    expect(refused.status).toBe(429);
    expect(((await refused.json()) as { code: string }).code).toBe('rate_limited');
    expect(s.app.netloom.matchmaker.stats().pending).toBe(2);
  });

  it('answers garbage with 4xx and a code, never 5xx', async () => {
    const s = await server({ matchmaker: { ticketRatePerIp: false } });
    const bodies: unknown[] = [
      '{',
      'null',
      '[]',
      '"ticket"',
      '12',
      {},
      { roomType: 5, minPlayers: 2, maxPlayers: 2 },
      { roomType: 'echo', minPlayers: -1, maxPlayers: 2 },
      '{"roomType":"echo","minPlayers":1e400,"maxPlayers":2}',
      { roomType: 'echo', minPlayers: 2, maxPlayers: 2, properties: 'x' },
      { roomType: 'echo', minPlayers: 2, maxPlayers: 2, properties: { a: [1] } },
      { roomType: 'echo', minPlayers: 2, maxPlayers: 2, query: { a: { min: 'x' } } },
      { roomType: 'echo', minPlayers: 2, maxPlayers: 2, query: { a: { min: 5, max: 1 } } },
      { roomType: 'echo', minPlayers: 2, maxPlayers: 2, party: [1, 2] },
      { roomType: 'echo', minPlayers: 2, maxPlayers: 2, party: 'ann' },
      { roomType: 'echo', minPlayers: 2, maxPlayers: 2, countMultiple: 0.5 },
      { roomType: 'echo', minPlayers: 2, maxPlayers: 2, properties: { ['k'.repeat(100)]: 1 } },
      { roomType: 'x'.repeat(10_000), minPlayers: 2, maxPlayers: 2 },
      '{"roomType":"echo","minPlayers":2,"maxPlayers":2,"properties":{"a":1e400}}',
      { roomType: 'echo', minPlayers: 2, maxPlayers: 2, extra: { deep: [[[[{}]]]] } },
    ];
    let seed = 7;
    const random = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const values = [null, true, -1, 0, 2.5, 'x', [], {}, [1, 'a'], { min: 1 }, 'echo', 3];
    const pick = () => values[Math.floor(random() * values.length)];
    for (let i = 0; i < 60; i++) {
      bodies.push({
        roomType: pick(),
        minPlayers: pick(),
        maxPlayers: pick(),
        properties: pick(),
        query: pick(),
        party: pick(),
      });
    }
    for (const body of bodies) {
      const res = await post(s, body);
      const json = (await res.json()) as { code?: string };
      if (res.status === 200) continue; // a random body may be a valid ticket
      expect(res.status, JSON.stringify(body)).toBeGreaterThanOrEqual(400);
      expect(res.status, JSON.stringify(body)).toBeLessThan(500);
      expect(typeof json.code).toBe('string');
    }
    const invalid = await post(s, { roomType: 'echo', minPlayers: 2, maxPlayers: 1 });
    expect(invalid.status).toBe(400);
    expect(((await invalid.json()) as { code: string }).code).toBe('ticket_invalid');
    const badWait = await fetch(`${s.url}/netloom/matchmaker/tickets/abc?waitMs=-5`);
    expect(badWait.status).toBe(400);
    const longId = await fetch(`${s.url}/netloom/matchmaker/tickets/${'a'.repeat(500)}`);
    expect(longId.status).toBeGreaterThanOrEqual(400); // 414: longer than Fastify's route parameter limit
    expect(longId.status).toBeLessThan(500);
    // The server still matches after all that.
    const a = client(s).matchmake({
      roomType: 'echo',
      minPlayers: 2,
      maxPlayers: 2,
      query: { ok: 'yes' },
      properties: { ok: 'yes' },
    });
    const b = client(s).matchmake({
      roomType: 'echo',
      minPlayers: 2,
      maxPlayers: 2,
      query: { ok: 'yes' },
      properties: { ok: 'yes' },
    });
    const [ra, rb] = await Promise.all([a, b]);
    expect(ra.roomId).toBe(rb.roomId);
  });
});
