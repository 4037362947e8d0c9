// Fuzz the rooms routes over real HTTP: random JSON, wrong types and raw garbage get a 4xx with a stable code, never a 5xx.
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isErrorCode } from '../../src/codec/errors.js';
import { createServer } from '../../src/server/index.js';
import { mulberry32 } from '../../src/shared/random.js';
import { createEchoRoom, newEchoLog } from '../helpers/echo-room.js';

const REQUESTS = 600;

let app: FastifyInstance;
let url = '';
let roomIds: string[] = [];

beforeAll(async () => {
  app = await createServer({
    rooms: { echo: createEchoRoom(newEchoLog(), { maxClients: 4 }) },
    joinRatePerIp: { perSecond: 200, burst: 100 },
    maxRoomsPerType: 30,
    isAdmin: () => true,
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  roomIds = [(await app.netloom.rooms.create('echo')).id, (await app.netloom.rooms.create('echo')).id];
});
afterAll(async () => {
  await app.close();
});

function fuzzer(seed: number) {
  const rnd = mulberry32(seed);
  const int = (n: number) => Math.floor(rnd() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)];
  const keys = [
    'type',
    'tags',
    'data',
    'private',
    'options',
    'joinData',
    'mode',
    '__proto__',
    'constructor',
    '',
  ];
  const string = (): string =>
    pick([
      () => '',
      () => 'echo',
      () => 'x'.repeat(int(300)),
      () => String.fromCharCode(...Array.from({ length: int(12) }, () => int(0xd800))),
      () => pick(roomIds),
      () => '../../etc/passwd',
      () => '%00%ff',
    ])();
  const value = (depth: number): unknown => {
    switch (int(depth > 3 ? 6 : 9)) {
      case 0:
        return null;
      case 1:
        return rnd() < 0.5;
      case 2:
        return pick([0, -1, 1e308, -0, 3.5, Number.MAX_SAFE_INTEGER + 2]);
      case 3:
      case 4:
        return string();
      case 5:
        return undefined;
      case 6:
        return Array.from({ length: int(5) }, () => value(depth + 1));
      default: {
        const out: Record<string, unknown> = {};
        for (let i = int(5); i > 0; i--) out[rnd() < 0.7 ? pick(keys) : string()] = value(depth + 1);
        return out;
      }
    }
  };
  const segment = () => encodeURIComponent(pick([pick(roomIds), 'echo', string().slice(0, 90), 'nope']));
  const request = (): { method: string; path: string; body?: string; type?: string } => {
    // Half the bodies are well-formed requests with random (often wrong) field values, so that
    // the fuzzer gets past validation into the handlers; the rest are random JSON or broken text.
    const wellFormed = () => {
      const out: Record<string, unknown> = {};
      if (rnd() < 0.5) out.type = rnd() < 0.7 ? 'echo' : value(2);
      if (rnd() < 0.5) out.tags = rnd() < 0.6 ? { mode: pick(['a', 'b']) } : value(2);
      if (rnd() < 0.5) out.joinData = rnd() < 0.5 ? { name: pick(['ann', 'mallory']) } : value(1);
      if (rnd() < 0.3) out.private = rnd() < 0.7 ? rnd() < 0.5 : value(2);
      if (rnd() < 0.3) out.data = value(1);
      return out;
    };
    const body = () =>
      rnd() < 0.1
        ? pick(['{', 'null', '"x"', '[]', '{"a":', '\u0000'])
        : JSON.stringify(rnd() < 0.5 ? wellFormed() : value(0));
    const type = rnd() < 0.9 ? 'application/json' : pick(['text/plain', 'application/x-www-form-urlencoded']);
    switch (int(8)) {
      case 0:
        return { method: 'POST', path: '/netloom/rooms', body: body(), type };
      case 1: {
        const query = Array.from({ length: int(4) }, () =>
          pick([
            `type=${encodeURIComponent(string().slice(0, 50))}`,
            `tags[${encodeURIComponent(string().slice(0, 20))}]=${encodeURIComponent(string().slice(0, 20))}`,
            `${encodeURIComponent(string().slice(0, 10))}=1`,
            'tags=x',
          ]),
        ).join('&');
        return { method: 'GET', path: `/netloom/rooms?${query}` };
      }
      case 2:
        return { method: 'GET', path: `/netloom/rooms/${segment()}` };
      case 3:
        return { method: 'POST', path: `/netloom/rooms/${segment()}/join`, body: body(), type };
      case 4:
        return { method: 'POST', path: `/netloom/rooms/${segment()}/join-or-create`, body: body(), type };
      case 5:
        return {
          method: 'POST',
          path: `/netloom/rooms/${segment()}/${pick(['lock', 'unlock'])}`,
          body: body(),
          type,
        };
      case 6:
        return { method: 'DELETE', path: `/netloom/rooms/${segment()}` };
      default:
        return { method: 'POST', path: `/netloom/rooms/echo/join-or-create`, body: body(), type };
    }
  };
  return request;
}

describe('HTTP fuzz of the rooms routes', () => {
  it(`${REQUESTS} random requests: every answer is < 500, and every 4xx carries a stable code`, async () => {
    const next = fuzzer(0x5eed);
    const statuses = new Map<number, number>();
    const codes = new Set<string>();
    for (let i = 0; i < REQUESTS; i++) {
      if (i % 40 === 0) roomIds.push((await app.netloom.rooms.create('echo')).id);
      const req = next();
      const response = await fetch(`${url}${req.path}`, {
        method: req.method,
        headers: req.body !== undefined ? { 'content-type': req.type ?? 'application/json' } : {},
        body: req.body,
      });
      const text = await response.text();
      statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
      expect({ i, req, status: response.status < 500 }).toEqual({ i, req, status: true });
      if (response.status >= 400) {
        const body = JSON.parse(text) as { code?: unknown };
        expect(typeof body.code).toBe('string');
        const code = String(body.code);
        // Fastify's router answers over-long path params itself (414) before any netloom code runs.
        if (response.status !== 414)
          expect({ req, code, known: isErrorCode(code) }).toMatchObject({ known: true });
        codes.add(code);
      }
    }
    // The fuzzer reached both accepted and refused paths, with several distinct codes.
    expect([...statuses.keys()].some((s) => s < 300)).toBe(true);
    expect(codes.has('request_invalid')).toBe(true);
    expect(codes.size).toBeGreaterThanOrEqual(3);
    expect(app.netloom.metrics()['errors{internal_error}'] ?? 0).toBe(0);
  });
});
