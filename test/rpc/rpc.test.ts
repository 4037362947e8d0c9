// RPC endpoints end to end over real WebSocket sessions and over HTTP: success, refusals, failures, limits.
import { afterEach, describe, expect, it } from 'vitest';
import type { Client } from '../../src/client/index.js';
import { NetloomError } from '../../src/codec/errors.js';
import { hasRole, requirement } from '../../src/server/index.js';
import { ManualClock } from '../../src/shared/clock.js';
import { echoProtocol } from '../helpers/echo-room.js';
import type { TestServer } from '../helpers/netloom.js';
import { api, rpcServer, skewed, typedClient } from './helpers.js';

let server: TestServer | null = null;
const clients: Client[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await server?.close();
  server = null;
});

function track<C extends Client>(c: C): C {
  clients.push(c as unknown as Client);
  return c;
}

async function errorOf(promise: Promise<unknown>): Promise<NetloomError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof NetloomError) return err;
    throw err;
  }
  throw new Error('expected the call to fail');
}

function addEndpoints(s: TestServer, calls: string[] = []): void {
  const server = s.app.netloom;
  server.endpoint('add', {
    ...api.get('add')!,
    handler: (req, ctx) => {
      calls.push(`add:${ctx.transport}`);
      return { sum: (req as { a: number; b: number }).a + (req as { a: number; b: number }).b };
    },
  });
  server.endpoint('whoami', {
    request: api.get('whoami')!.request,
    response: api.get('whoami')!.response,
    handler: (_req, ctx) => ({
      userId: ctx.identity?.userId ?? '',
      via: ctx.transport,
      roles: (ctx.data.get('auth.roles') as string[] | undefined) ?? [],
    }),
  });
  server.endpoint('admin', {
    ...api.get('admin')!,
    requirements: [hasRole('admin')],
    handler: () => ({ ok: true }),
  });
}

describe('RPC over a session', () => {
  it('calls a typed endpoint over the open session and gets the typed answer', async () => {
    server = await rpcServer();
    const calls: string[] = [];
    addEndpoints(server, calls);
    const client = track(typedClient(server.url, { endpoints: api, headers: { 'x-user': 'ann' } }));
    await client.joinOrCreate('echo', {}, { protocol: echoProtocol });
    const answer = await client.call('add', { a: 2, b: 40 });
    expect(answer.sum).toBe(42);
    const me = await client.call('whoami', {});
    expect(me).toEqual({ userId: 'ann', via: 'session', roles: [] });
    expect(calls).toEqual(['add:session']);
  });

  it('runs many calls at once and matches each answer to its call', async () => {
    server = await rpcServer();
    addEndpoints(server);
    const client = track(typedClient(server.url, { endpoints: api }));
    await client.joinOrCreate('echo', {}, { protocol: echoProtocol });
    const sums = await Promise.all(Array.from({ length: 12 }, (_, i) => client.call('add', { a: i, b: i })));
    expect(sums.map((s) => s.sum)).toEqual(Array.from({ length: 12 }, (_, i) => 2 * i));
  });

  it('answers request bytes that fail the check with a codec code, and the session lives on', async () => {
    server = await rpcServer();
    addEndpoints(server);
    const good = track(typedClient(server.url, { endpoints: api }));
    const room = await good.joinOrCreate('echo', {}, { protocol: echoProtocol });
    // A client with a skewed definition of `add` sends bytes the server's schema does not accept.
    const bad = track(typedClient(server.url, { endpoints: skewed }));
    await bad.joinOrCreate('echo', {}, { protocol: echoProtocol });
    const err = await errorOf(bad.call('add', { a: 'not numbers at all' }));
    expect(['frame_trailing_bytes', 'frame_truncated', 'payload_invalid']).toContain(err.code);
    expect(server.app.netloom.sessions.count()).toBe(2);
    expect((await good.call('add', { a: 1, b: 1 })).sum).toBe(2);
    expect(room.id).not.toBe('');
  });

  it('refuses an unknown endpoint with endpoint_unknown', async () => {
    server = await rpcServer();
    addEndpoints(server);
    const client = track(typedClient(server.url, { endpoints: skewed }));
    await client.joinOrCreate('echo', {}, { protocol: echoProtocol });
    expect((await errorOf(client.call('missing', {}))).code).toBe('endpoint_unknown');
    // A name the client's own definition lacks never leaves the client.
    const typed = track(typedClient(server.url, { endpoints: api }));
    expect((await errorOf(typed.call('nope' as 'add', { a: 1, b: 2 }))).code).toBe('endpoint_unknown');
  });

  it('refuses a caller who fails a requirement with requirement_failed, and lets one who meets it in', async () => {
    server = await rpcServer();
    addEndpoints(server);
    const player = track(typedClient(server.url, { endpoints: api, headers: { 'x-user': 'bob' } }));
    await player.joinOrCreate('echo', {}, { protocol: echoProtocol });
    const refused = await errorOf(player.call('admin', {}));
    expect(refused.code).toBe('requirement_failed');
    expect(refused.message).toContain('hasRole(admin)');
    const admin = track(
      typedClient(server.url, { endpoints: api, headers: { 'x-user': 'eve', 'x-roles': 'admin,mod' } }),
    );
    await admin.joinOrCreate('echo', {}, { protocol: echoProtocol });
    expect(await admin.call('admin', {})).toEqual({ ok: true });
    expect(await admin.call('whoami', {})).toEqual({
      userId: 'eve',
      via: 'session',
      roles: ['admin', 'mod'],
    });
  });

  it('keeps the code of a NetloomError a requirement throws, and refuses a requirement that throws anything else', async () => {
    server = await rpcServer();
    const netloom = server.app.netloom;
    netloom.endpoint('add', {
      ...api.get('add')!,
      requirements: [
        requirement('notOnSunday', () => {
          throw new NetloomError('forbidden', 'not today');
        }),
      ],
      handler: () => ({ sum: 0 }),
    });
    netloom.endpoint('admin', {
      ...api.get('admin')!,
      requirements: [
        () => {
          throw new Error('bug');
        },
      ],
      handler: () => ({ ok: true }),
    });
    const client = track(typedClient(server.url, { endpoints: api }));
    await client.joinOrCreate('echo', {}, { protocol: echoProtocol });
    expect((await errorOf(client.call('add', { a: 1, b: 2 }))).code).toBe('forbidden');
    expect((await errorOf(client.call('admin', {}))).code).toBe('requirement_failed');
  });

  it('answers rpc_failed when a handler throws, keeps a NetloomError code, and refuses a bad answer', async () => {
    server = await rpcServer();
    const netloom = server.app.netloom;
    netloom.endpoint('fail', {
      ...api.get('fail')!,
      handler: async (req) => {
        const how = (req as { how: string }).how;
        if (how === 'coded') throw new NetloomError('room_full', 'no room for you');
        if (how === 'async') await Promise.reject(new Error('async boom'));
        throw new Error('boom');
      },
    });
    netloom.endpoint('wrong', { ...api.get('wrong')!, handler: () => ({ n: -1 }) });
    const client = track(typedClient(server.url, { endpoints: api }));
    await client.joinOrCreate('echo', {}, { protocol: echoProtocol });
    const thrown = await errorOf(client.call('fail', { how: 'plain' }));
    expect(thrown.code).toBe('rpc_failed');
    expect(thrown.message).not.toContain('boom'); // internals stay on the server
    expect((await errorOf(client.call('fail', { how: 'async' }))).code).toBe('rpc_failed');
    const coded = await errorOf(client.call('fail', { how: 'coded' }));
    expect(coded.code).toBe('room_full');
    expect(coded.message).toBe('no room for you');
    expect((await errorOf(client.call('wrong', {}))).code).toBe('rpc_failed');
    expect(server.app.netloom.metrics()['errors{rpc_failed}']).toBe(3);
  });

  it('times a call out on the client clock with rpc_timeout', async () => {
    server = await rpcServer();
    let started = 0;
    server.app.netloom.endpoint('hang', {
      ...api.get('hang')!,
      handler: () => {
        started++;
        return new Promise<Record<string, never>>(() => {});
      },
    });
    const clock = new ManualClock();
    const client = track(typedClient(server.url, { endpoints: api, clock, rpcTimeoutMs: 1_000 }));
    await client.joinOrCreate('echo', {}, { protocol: echoProtocol });
    const call = client.call('hang', {});
    const failed = errorOf(call);
    await until(() => started === 1);
    clock.advance(999);
    clock.advance(1);
    expect((await failed).code).toBe('rpc_timeout');
  });

  it('bounds a handler on the server clock with rpc_timeout and frees its in-flight slot', async () => {
    const clock = new ManualClock();
    server = await rpcServer({ clock, rpc: { handlerTimeoutMs: 5_000, maxInFlight: 1 } });
    let started = 0;
    server.app.netloom.endpoint('hang', {
      ...api.get('hang')!,
      handler: () => {
        started++;
        return new Promise<Record<string, never>>(() => {});
      },
    });
    addEndpoints(server);
    const client = track(typedClient(server.url, { endpoints: api }));
    await client.joinOrCreate('echo', {}, { protocol: echoProtocol });
    const failed = errorOf(client.call('hang', {}));
    await until(() => started === 1);
    expect((await errorOf(client.call('add', { a: 1, b: 1 }))).code).toBe('rate_limited');
    clock.advance(5_000);
    expect((await failed).code).toBe('rpc_timeout');
    expect((await client.call('add', { a: 1, b: 1 })).sum).toBe(2);
  });

  it('refuses calls past the in-flight limit of a session with rate_limited', async () => {
    server = await rpcServer({ rpc: { maxInFlight: 2 } });
    const release: Array<() => void> = [];
    server.app.netloom.endpoint('hang', {
      ...api.get('hang')!,
      handler: () => new Promise<Record<string, never>>((resolve) => release.push(() => resolve({}))),
    });
    const client = track(typedClient(server.url, { endpoints: api }));
    await client.joinOrCreate('echo', {}, { protocol: echoProtocol });
    const first = client.call('hang', {});
    const second = client.call('hang', {});
    const third = errorOf(client.call('hang', {}));
    expect((await third).code).toBe('rate_limited');
    expect(release).toHaveLength(2);
    for (const r of release) r();
    await expect(Promise.all([first, second])).resolves.toEqual([{}, {}]);
  });

  it('rejects calls still waiting when the session closes, with link_closed', async () => {
    server = await rpcServer();
    let started = 0;
    server.app.netloom.endpoint('hang', {
      ...api.get('hang')!,
      handler: () => {
        started++;
        return new Promise<Record<string, never>>(() => {});
      },
    });
    const client = track(typedClient(server.url, { endpoints: api }));
    await client.joinOrCreate('echo', {}, { protocol: echoProtocol });
    const failed = errorOf(client.call('hang', {}, { via: 'session' }));
    await until(() => started === 1);
    client.close();
    expect((await failed).code).toBe('link_closed');
  });

  it('answers the built-in netloom.endpoints call with the endpoint list', async () => {
    server = await rpcServer();
    addEndpoints(server);
    const client = track(typedClient(server.url, { endpoints: api }));
    await client.joinOrCreate('echo', {}, { protocol: echoProtocol });
    const listed = (await client.call('netloom.endpoints' as 'add', {} as never)) as unknown as {
      endpoints: Array<{ name: string; request: string; requirements: string[] }>;
    };
    const names = listed.endpoints.map((e) => e.name);
    expect(names).toEqual(['add', 'admin', 'netloom.endpoints', 'whoami']);
    const admin = listed.endpoints.find((e) => e.name === 'admin');
    expect(admin?.requirements).toEqual(['hasRole(admin)']);
    expect(JSON.parse(listed.endpoints[0].request)).toMatchObject({ type: 'object' });
  });
});

describe('endpoint definitions', () => {
  it('refuses bad RPC limits when the server starts, with protocol_invalid', async () => {
    await expect(rpcServer({ rpc: { maxInFlight: 0 } })).rejects.toMatchObject({ code: 'protocol_invalid' });
    await expect(rpcServer({ rpc: { handlerTimeoutMs: Number.NaN } })).rejects.toMatchObject({
      code: 'protocol_invalid',
    });
  });

  it('refuses taken, reserved and malformed endpoints with protocol_invalid', async () => {
    server = await rpcServer();
    addEndpoints(server);
    const netloom = server.app.netloom;
    const add = api.get('add')!;
    const codeOfDefine = (fn: () => void): string => {
      try {
        fn();
      } catch (err) {
        return err instanceof NetloomError ? err.code : 'other';
      }
      return 'ok';
    };
    expect(codeOfDefine(() => netloom.endpoint('add', { ...add, handler: () => ({ sum: 0 }) }))).toBe(
      'protocol_invalid',
    );
    expect(
      codeOfDefine(() => netloom.endpoint('netloom.mine', { ...add, handler: () => ({ sum: 0 }) })),
    ).toBe('protocol_invalid');
    expect(codeOfDefine(() => netloom.endpoint('bad name', { ...add, handler: () => ({ sum: 0 }) }))).toBe(
      'protocol_invalid',
    );
    expect(codeOfDefine(() => netloom.endpoint('nohandler', { ...add } as never))).toBe('protocol_invalid');
    expect(
      codeOfDefine(() =>
        netloom.endpoint('badreq', { ...add, requirements: ['admin' as never], handler: () => ({ sum: 0 }) }),
      ),
    ).toBe('protocol_invalid');
  });
});

async function until(predicate: () => boolean): Promise<void> {
  const started = Date.now();
  while (!predicate()) {
    if (Date.now() - started > 5_000) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 5));
  }
}
