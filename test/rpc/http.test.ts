// RPC over HTTP (`POST {prefix}/rpc/:name`) and introspection (`GET {prefix}/rpc`), hostile bodies and raw session frames.
import { afterEach, describe, expect, it } from 'vitest';
import type { Client } from '../../src/client/index.js';
import { NetloomError } from '../../src/codec/errors.js';
import { encodeFrame, type Frame, FrameKind, MessageKind, WIRE_VERSION } from '../../src/codec/frames.js';
import { hasRole } from '../../src/server/index.js';
import type { TestServer } from '../helpers/netloom.js';
import { rawPeer } from '../helpers/raw-ws.js';
import { api, rpcServer, typedClient } from './helpers.js';

let server: TestServer | null = null;
const clients: Client[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await server?.close();
  server = null;
});

async function start(options: Parameters<typeof rpcServer>[0] = {}): Promise<TestServer> {
  const s = await rpcServer(options);
  const netloom = s.app.netloom;
  netloom.endpoint('add', {
    ...api.get('add')!,
    handler: (req) => ({ sum: (req as { a: number }).a + (req as { b: number }).b }),
  });
  netloom.endpoint('whoami', {
    ...api.get('whoami')!,
    handler: (_req, ctx) => ({
      userId: ctx.identity?.userId ?? '',
      via: ctx.transport,
      roles: (ctx.data.get('auth.roles') as string[] | undefined) ?? [],
    }),
  });
  netloom.endpoint('admin', {
    ...api.get('admin')!,
    requirements: [hasRole('admin')],
    handler: () => ({ ok: true }),
  });
  return s;
}

function post(s: TestServer, name: string, body: Uint8Array | string, type = 'application/octet-stream') {
  return fetch(`${s.url}/netloom/rpc/${name}`, {
    method: 'POST',
    headers: { 'content-type': type },
    body: typeof body === 'string' ? body : new Uint8Array(body),
  });
}

describe('RPC over HTTP', () => {
  it('calls over HTTP when the client has no session, with the identity from authenticate', async () => {
    server = await start();
    const client = typedClient(server.url, {
      endpoints: api,
      headers: { 'x-user': 'hal', 'x-roles': 'admin' },
    });
    clients.push(client as unknown as Client);
    expect(await client.call('add', { a: 20, b: 22 })).toEqual({ sum: 42 });
    expect(await client.call('whoami', {})).toEqual({ userId: 'hal', via: 'http', roles: ['admin'] });
    expect(await client.call('admin', {})).toEqual({ ok: true });
    expect(server.app.netloom.sessions.count()).toBe(0);
  });

  it('uses HTTP when asked even with a session open', async () => {
    server = await start();
    const client = typedClient(server.url, { endpoints: api });
    clients.push(client as unknown as Client);
    const { echoProtocol } = await import('../helpers/echo-room.js');
    await client.joinOrCreate('echo', {}, { protocol: echoProtocol });
    expect((await client.call('whoami', {}, { via: 'http' })).via).toBe('http');
    expect((await client.call('whoami', {})).via).toBe('session');
  });

  it('refuses over HTTP with the same codes: requirement, unknown endpoint, auth', async () => {
    server = await start({
      authenticate: (request) => {
        if (request.headers['x-user'] === 'nobody') return null;
        return { userId: String(request.headers['x-user'] ?? 'anon'), data: {} };
      },
    });
    const player = typedClient(server.url, { endpoints: api, headers: { 'x-user': 'pat' } });
    const refused = await player.call('admin', {}).catch((e: NetloomError) => e);
    expect(refused).toBeInstanceOf(NetloomError);
    expect((refused as NetloomError).code).toBe('requirement_failed');
    const anonymous = typedClient(server.url, { endpoints: api, headers: { 'x-user': 'nobody' } });
    expect(((await anonymous.call('add', { a: 1, b: 2 }).catch((e) => e)) as NetloomError).code).toBe(
      'auth_required',
    );
    const res = await post(server, 'nope', new Uint8Array([]));
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ code: 'endpoint_unknown' });
  });

  it('answers hostile bodies with 4xx and a code, never 5xx', async () => {
    server = await start();
    const bodies: Array<[Uint8Array | string, string | undefined]> = [
      [new Uint8Array([]), undefined],
      [new Uint8Array([0xff]), undefined],
      [new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0x0f]), undefined],
      [new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]), undefined],
      [new Uint8Array(70_000), undefined],
      ['{"a":1,"b":2}', 'application/json'],
      ['a=1', 'text/plain'],
    ];
    for (let i = 0; i < 30; i++) {
      const len = Math.floor(Math.random() * 40);
      bodies.push([Uint8Array.from({ length: len }, () => Math.floor(Math.random() * 256)), undefined]);
    }
    for (const [body, type] of bodies) {
      const res = await post(server, 'add', body, type);
      if (res.status === 200) {
        // random bytes can happen to be a valid request: two varints
        expect(res.headers.get('content-type')).toBe('application/octet-stream');
        continue;
      }
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(res.status).toBeLessThan(500);
      const json = (await res.json()) as { code: string };
      expect(typeof json.code).toBe('string');
    }
    const truncated = await post(server, 'add', new Uint8Array([]));
    expect(await truncated.json()).toMatchObject({ code: 'frame_truncated' });
    const tooLong = await post(server, 'x'.repeat(200), new Uint8Array([]));
    expect(tooLong.status).toBeGreaterThanOrEqual(400);
    expect(tooLong.status).toBeLessThan(500);
  });

  it('limits calls per address with rate_limited', async () => {
    server = await start({ rpc: { httpRatePerSecond: 0.001, httpBurst: 3 } });
    const statuses: number[] = [];
    const body = api.encodeRequest('add', { a: 1, b: 1 });
    for (let i = 0; i < 5; i++) statuses.push((await post(server, 'add', body)).status);
    expect(statuses).toEqual([200, 200, 200, 429, 429]);
  });

  it('lists endpoints with their schemas and requirements at GET {prefix}/rpc', async () => {
    server = await start();
    const res = await fetch(`${server.url}/netloom/rpc`);
    expect(res.status).toBe(200);
    const { endpoints } = (await res.json()) as {
      endpoints: Array<{ name: string; request: unknown; requirements: string[]; hash: string }>;
    };
    expect(endpoints.map((e) => e.name)).toEqual(['add', 'admin', 'netloom.endpoints', 'whoami']);
    const add = endpoints.find((e) => e.name === 'add');
    expect(add?.request).toEqual({
      type: 'object',
      fields: { a: { type: 'varint' }, b: { type: 'varint' } },
    });
    expect(add?.hash).toBe(api.get('add')?.hash);
    expect(endpoints.find((e) => e.name === 'admin')?.requirements).toEqual(['hasRole(admin)']);
    const client = typedClient(server.url, { endpoints: api });
    expect((await client.describeEndpoints()).map((e) => e.name)).toContain('whoami');
  });

  it('turns introspection off with rpc.introspection: false', async () => {
    server = await start({ rpc: { introspection: false } });
    expect((await fetch(`${server.url}/netloom/rpc`)).status).toBe(404);
    expect(server.app.netloom.describeEndpoints().map((e) => e.name)).toEqual(['add', 'admin', 'whoami']);
  });
});

describe('RPC frames from a raw peer', () => {
  it('answers garbage request bytes and unknown names with error responses, and keeps the session', async () => {
    server = await start();
    const ticket = await server.app.netloom.rooms.joinOrCreate('echo');
    const peer = await rawPeer(server.port);
    peer.send(
      encodeFrame({
        kind: FrameKind.Hello,
        version: WIRE_VERSION,
        mode: 'new',
        handle: 1,
        seat: ticket.seat,
      }),
    );
    const waitFor = async (done: () => boolean) => {
      const started = Date.now();
      while (!done() && Date.now() - started < 5_000) await new Promise((r) => setTimeout(r, 5));
    };
    await waitFor(() => peer.frames.some((f) => f.kind === FrameKind.Welcome));
    const rpc = (seq: number, id: number, name: string, payload: Uint8Array) =>
      peer.send(
        encodeFrame({
          kind: FrameKind.Reliable,
          seq,
          message: { kind: MessageKind.RpcRequest, id, name, payload },
        }),
      );
    rpc(1, 7, 'add', new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]));
    rpc(2, 8, 'no-such-endpoint', new Uint8Array([1]));
    rpc(3, 9, 'add', api.encodeRequest('add', { a: 2, b: 3 }));
    const responses = () =>
      peer.frames.flatMap((f: Frame) =>
        f.kind === FrameKind.Reliable && f.message.kind === MessageKind.RpcResponse ? [f.message] : [],
      );
    await waitFor(() => responses().length >= 3);
    const byId = new Map(responses().map((m) => [m.id, m]));
    expect(byId.get(7)).toMatchObject({ ok: false, code: 'payload_invalid' });
    expect(byId.get(8)).toMatchObject({ ok: false, code: 'endpoint_unknown' });
    const ok = byId.get(9);
    expect(ok?.ok).toBe(true);
    if (ok?.ok) expect(api.decodeResponse('add', ok.payload)).toEqual({ sum: 5 });
    expect(server.app.netloom.sessions.count()).toBe(1);
    peer.ws.close();
  });
});
