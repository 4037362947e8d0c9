// RPC test helpers: an echo server with header-based auth, shared endpoint definitions, typed Node clients.
import WebSocket from 'ws';
import { Client, type ClientOptions, type WebSocketConstructor } from '../../src/client/index.js';
import type { AnyNotices } from '../../src/client/push.js';
import type { AnyEndpoints } from '../../src/codec/endpoints.js';
import { defineEndpoints, p } from '../../src/codec/index.js';
import type { CreateServerOptions, Identity } from '../../src/server/index.js';
import { startEchoServer, type TestServer } from '../helpers/netloom.js';

/** The endpoints both sides agree on. */
export const api = defineEndpoints({
  add: { request: p.object({ a: p.varint(), b: p.varint() }), response: p.object({ sum: p.varint() }) },
  whoami: {
    request: p.object({}),
    response: p.object({ userId: p.string(), via: p.string(), roles: p.list(p.string()) }),
  },
  admin: { request: p.object({}), response: p.object({ ok: p.boolean() }) },
  fail: { request: p.object({ how: p.string() }), response: p.object({}) },
  hang: { request: p.object({}), response: p.object({}) },
  wrong: { request: p.object({}), response: p.object({ n: p.varuint() }) },
});

/** Same names, different schemas: what a stale or hostile client would send. */
export const skewed = defineEndpoints({
  add: { request: p.object({ a: p.string() }), response: p.object({ sum: p.varint() }) },
  missing: { request: p.object({}), response: p.object({}) },
});

/** `x-user` and `x-roles` headers become the identity (no header: user `anon`). */
export function headerAuth(request: { headers: Record<string, unknown> }): Identity {
  const user = typeof request.headers['x-user'] === 'string' ? request.headers['x-user'] : 'anon';
  const roles = typeof request.headers['x-roles'] === 'string' ? request.headers['x-roles'].split(',') : [];
  return { userId: user, data: { roles } };
}

export async function rpcServer(options: Partial<CreateServerOptions> = {}): Promise<TestServer> {
  return startEchoServer({ authenticate: headerAuth, ...options });
}

export function typedClient<E extends AnyEndpoints, N extends AnyNotices = AnyNotices>(
  url: string,
  options: ClientOptions<E, N>,
): Client<E, N> {
  return new Client<E, N>(url, { WebSocket: WebSocket as unknown as WebSocketConstructor, ...options });
}

/** Resolves after pending I/O callbacks ran (for asserting that nothing else arrived). */
export function settle(): Promise<void> {
  return new Promise((r) => setTimeout(r, 20));
}
