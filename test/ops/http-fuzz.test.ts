// Fuzzes every HTTP route netloom registers (found with Fastify's onRoute hook) with random JSON, wrong types,
// huge strings and bad params: every answer is a 4xx JSON { code } or a success, never a 5xx, and the server stays up.
import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from '../../src/client/index.js';
import { isErrorCode } from '../../src/codec/errors.js';
import { netloom, netloomFastifyOptions } from '../../src/server/index.js';
import { mulberry32 } from '../../src/shared/random.js';
import { createEchoRoom, echoProtocol, newEchoLog } from '../helpers/echo-room.js';
import { nodeClient, until } from '../helpers/netloom.js';

interface FoundRoute {
  method: string;
  url: string;
}

const SEED = Number(process.env.FUZZ_SEED ?? 0x5eed);
const CASES_PER_ROUTE = Number(process.env.FUZZ_CASES ?? 60);

const KEYS = [
  'type',
  'tags',
  'joinData',
  'data',
  'private',
  'options',
  'roomType',
  'properties',
  'query',
  'minPlayers',
  'maxPlayers',
  'countMultiple',
  'party',
  'name',
  'payload',
  '__proto__',
  'constructor',
  'min',
  'max',
];

const STRINGS = [
  '',
  'echo',
  'a',
  '0',
  '-1',
  'null',
  'true',
  '../../etc/passwd',
  '%00',
  '\u0000',
  '\ud800',
  '😀'.repeat(50),
  '<script>',
  '__proto__',
  'constructor',
  ' '.repeat(300),
];

function fuzzer(random: () => number) {
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)];
  const int = (max: number) => Math.floor(random() * max);
  const str = (): string => {
    switch (int(4)) {
      case 0:
        return 'x'.repeat(pick([1, 100, 129, 1_000, 20_000]));
      case 1:
        return String.fromCharCode(...Array.from({ length: int(20) }, () => int(0xffff)));
      default:
        return pick(STRINGS);
    }
  };
  const num = () => pick([0, -1, 1, 1.5, 2 ** 53 + 2, -(2 ** 31), 1e308, -1e308, 3, 16, 1_000_000]);
  const value = (depth: number): unknown => {
    const kind = depth > 3 ? int(4) : int(7);
    switch (kind) {
      case 0:
        return null;
      case 1:
        return random() < 0.5;
      case 2:
        return num();
      case 3:
        return str();
      case 4:
        return Array.from({ length: pick([0, 1, 3, 40]) }, () => value(depth + 1));
      default: {
        const obj: Record<string, unknown> = {};
        for (let i = int(6); i > 0; i--) {
          // defineProperty, so that `__proto__` becomes an own key that JSON.stringify writes out
          Object.defineProperty(obj, random() < 0.8 ? pick(KEYS) : str().slice(0, 50), {
            value: value(depth + 1),
            enumerable: true,
            writable: true,
            configurable: true,
          });
        }
        return obj;
      }
    }
  };
  return { pick, int, str, value };
}

/** Percent-encodes `text`; a lone surrogate becomes the raw (invalid UTF-8) escape of one, on purpose. */
function enc(text: string): string {
  try {
    return encodeURIComponent(text);
  } catch {
    return `${encodeURIComponent(text.replace(/[\ud800-\udfff]/g, ''))}%ED%A0%80`;
  }
}

interface FuzzRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string | Uint8Array<ArrayBuffer>;
}

function makeRequest(route: FoundRoute, f: ReturnType<typeof fuzzer>, random: () => number): FuzzRequest {
  const path = route.url.replace(/:([A-Za-z0-9_]+)/g, () =>
    random() < 0.2 ? 'echo' : random() < 0.1 ? '%E0%A4%A' : enc(f.str().slice(0, 200)),
  );
  const query: string[] = [];
  for (let i = f.int(4); i > 0; i--) {
    const key = f.pick(['type', 'tags[mode]', 'tags', 'waitMs', 'x', 'tags[__proto__]']);
    const v = f.pick([f.str().slice(0, 300), String(JSON.stringify(f.value(3))), '-5', '1e9', '']);
    query.push(`${enc(key)}=${enc(v)}`);
  }
  const headers: Record<string, string> = {};
  const user = f.pick([undefined, 'ann', 'admin', 'bad', 'x'.repeat(5_000)]);
  if (user !== undefined) headers['x-user'] = user;
  const request: FuzzRequest = {
    method: route.method,
    path: query.length ? `${path}?${query.join('&')}` : path,
    headers,
  };
  if (route.method === 'GET' || route.method === 'HEAD') return request;
  switch (f.int(7)) {
    case 0:
      headers['content-type'] = 'application/json';
      request.body = '{"type": "echo", ';
      break;
    case 1:
      headers['content-type'] = 'application/json';
      request.body = JSON.stringify({ joinData: 'x'.repeat(f.pick([20_000, 2_000_000])) });
      break;
    case 2:
      headers['content-type'] = f.pick(['text/plain', 'application/x-www-form-urlencoded', 'image/png']);
      request.body = f.str();
      break;
    case 3:
      headers['content-type'] = 'application/octet-stream';
      request.body = new Uint8Array(f.pick([0, 1, 7, 100, 70_000])).map(() => f.int(256));
      break;
    case 4:
      // no body at all
      break;
    default:
      headers['content-type'] = 'application/json';
      request.body = JSON.stringify(f.value(0)) ?? 'null';
  }
  return request;
}

let app: FastifyInstance;
let base = '';
const routes: FoundRoute[] = [];
const clients: Client[] = [];

beforeAll(async () => {
  app = Fastify({ logger: false, ...netloomFastifyOptions() });
  app.addHook('onRoute', (route) => {
    if ((route as { websocket?: boolean }).websocket) return;
    for (const method of [route.method].flat()) {
      if (method === 'HEAD' || method === 'OPTIONS') continue;
      routes.push({ method, url: route.url });
    }
  });
  await app.register(netloom, {
    rooms: { echo: createEchoRoom(newEchoLog()) },
    joinRatePerIp: false,
    authenticate: async (request) => {
      const user = request.headers['x-user'];
      if (user === undefined) return null;
      if (user === 'bad') throw new Error('bad credentials');
      return { userId: String(user), data: { roles: user === 'admin' ? ['admin'] : [] } };
    },
    isAdmin: (identity) => identity?.userId === 'admin',
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  for (const c of clients.splice(0)) c.close();
  await app.close();
});

describe('HTTP fuzz of every netloom route', () => {
  it('finds the routes (rooms, ops and whatever else netloom registers)', () => {
    const urls = routes.map((r) => `${r.method} ${r.url}`);
    expect(urls).toContain('GET /healthz');
    expect(urls).toContain('GET /metrics');
    expect(urls).toContain('POST /netloom/rooms/:roomId/join');
    expect(routes.length).toBeGreaterThanOrEqual(5);
  });

  it('answers random and hostile requests with a 4xx { code } or a success, never a 5xx', async () => {
    const random = mulberry32(SEED);
    const f = fuzzer(random);
    const failures: string[] = [];
    const codes = new Map<string, number>();
    let ok = 0;
    for (const route of routes) {
      for (let i = 0; i < CASES_PER_ROUTE; i++) {
        const req = makeRequest(route, f, random);
        const res = await fetch(`${base}${req.path}`, {
          method: req.method,
          headers: req.headers,
          body: req.body,
        });
        const text = await res.text();
        const where = `${req.method} ${req.path.slice(0, 120)} → ${res.status} ${text.slice(0, 160)}`;
        if (res.status < 400) ok++;
        if (res.status >= 500) {
          failures.push(where);
          continue;
        }
        if (res.status >= 400) {
          let code: unknown;
          try {
            code = (JSON.parse(text) as { code?: unknown }).code;
          } catch {
            code = undefined;
          }
          if (typeof code !== 'string' || !isErrorCode(code)) failures.push(`no stable code: ${where}`);
          else codes.set(code, (codes.get(code) ?? 0) + 1);
        }
      }
    }
    if (process.env.FUZZ_VERBOSE) console.log(Object.fromEntries(codes), `${ok} successes`);
    expect(failures, `seed ${SEED}`).toEqual([]);
    // the fuzz reached the validation and auth paths, not just one refusal
    expect(codes.get('request_invalid')).toBeGreaterThan(0);
    expect(codes.get('auth_required')).toBeGreaterThan(0);
  }, 120_000);

  it('the process is still up and serving: health is ok and a client can play', async () => {
    const health = await fetch(`${base}/healthz`);
    expect(health.status).toBe(200);
    const client = nodeClient(base, { headers: { 'x-user': 'survivor' } });
    clients.push(client);
    const room = await client.joinOrCreate('echo', { name: 'sam' }, { protocol: echoProtocol });
    let said = 0;
    room.on('said', () => said++);
    room.send('say', { n: 1, text: 'still here' });
    await until(() => said === 1, 5_000, 'echo');
    expect(said).toBe(1);
  });
});
