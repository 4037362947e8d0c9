// Auth: a real HS256 JWT in the Authorization header reaches onAuth and the seat; refusals are 401 with codes.
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { SignJWT } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import type { Client } from '../../src/client/index.js';
import { NetloomError } from '../../src/codec/errors.js';
import { type Authenticate, createServer, defineRoom, type Identity } from '../../src/server/index.js';
import { echoProtocol } from '../helpers/echo-room.js';
import { nodeClient } from '../helpers/netloom.js';
import { jwtAuthenticate } from './jwt-example.js';

const SECRET = new TextEncoder().encode('a-long-random-secret-shared-with-your-login-service');

function jwt(claims: Record<string, unknown>, options: { secret?: Uint8Array; expiresIn?: string } = {}) {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuedAt()
    .setExpirationTime(options.expiresIn ?? '1h')
    .sign(options.secret ?? SECRET);
}

interface Seen {
  onAuth: Array<{ userId: string | undefined; auth: Identity | undefined }>;
  onJoin: Array<{ userId: string | undefined; name: unknown }>;
}

let app: FastifyInstance | null = null;
const clients: Client[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await app?.close();
  app = null;
});

async function start(
  authenticate: Authenticate,
  extra: { isAdmin?: (i: Identity | undefined) => boolean } = {},
) {
  const seen: Seen = { onAuth: [], onJoin: [] };
  const who = defineRoom({
    protocol: echoProtocol,
    onAuth(_room, client) {
      seen.onAuth.push({ userId: client.userId, auth: client.auth });
      return { ok: true, data: undefined };
    },
    onJoin(_room, client) {
      seen.onJoin.push({ userId: client.userId, name: client.auth?.data.name });
    },
  });
  app = await createServer({ rooms: { who }, authenticate, ...extra });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  return { seen, url };
}

async function post(url: string, path: string, body: unknown, token?: string) {
  const response = await fetch(`${url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe('authenticate with a JWT (jose, HS256)', () => {
  it('lets a client with a valid token join; onAuth and onJoin see its identity', async () => {
    const { seen, url } = await start(jwtAuthenticate(SECRET));
    const token = await jwt({ sub: 'user-42', name: 'Ann' });
    const client = nodeClient(url, { headers: { authorization: `Bearer ${token}` } });
    clients.push(client);
    const room = await client.joinOrCreate('who', {}, { protocol: echoProtocol });
    expect(room.id).toBeTruthy();
    expect(seen.onAuth).toEqual([
      { userId: 'user-42', auth: { userId: 'user-42', data: { name: 'Ann', role: 'player' } } },
    ]);
    expect(seen.onJoin).toEqual([{ userId: 'user-42', name: 'Ann' }]);
  });

  it('refuses a missing token with 401 auth_required', async () => {
    const { seen, url } = await start(jwtAuthenticate(SECRET));
    const res = await post(url, '/netloom/rooms/who/join-or-create', {});
    expect(res).toMatchObject({ status: 401, body: { code: 'auth_required' } });
    const client = nodeClient(url);
    clients.push(client);
    const err = await client.joinOrCreate('who', {}, { protocol: echoProtocol }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NetloomError);
    expect((err as NetloomError).code).toBe('auth_required');
    expect(seen.onAuth).toEqual([]);
  });

  it('refuses a token signed with another key, an expired token and garbage with 401 auth_invalid', async () => {
    const { seen, url } = await start(jwtAuthenticate(SECRET));
    const wrongKey = await jwt(
      { sub: 'u' },
      { secret: new TextEncoder().encode('some-other-secret-entirely-123') },
    );
    const expired = await new SignJWT({ sub: 'u' })
      .setProtectedHeader({ alg: 'HS256' })
      .setExpirationTime(Math.floor(Date.now() / 1000) - 60)
      .sign(SECRET);
    const noSubject = await jwt({ name: 'nobody' });
    for (const token of [wrongKey, expired, 'not.a.jwt', noSubject]) {
      const res = await post(url, '/netloom/rooms/who/join-or-create', {}, token);
      expect(res).toMatchObject({ status: 401, body: { code: 'auth_invalid' } });
    }
    expect(seen.onAuth).toEqual([]);
  });

  it('runs authenticate on every rooms route, lists included', async () => {
    const { url } = await start(jwtAuthenticate(SECRET));
    expect((await fetch(`${url}/netloom/rooms`)).status).toBe(401);
    expect((await fetch(`${url}/netloom/rooms/some-id`)).status).toBe(401);
    const token = await jwt({ sub: 'u' });
    const listed = await fetch(`${url}/netloom/rooms`, { headers: { authorization: `Bearer ${token}` } });
    expect(listed.status).toBe(200);
    expect(await listed.json()).toEqual({ rooms: [] });
  });

  it('refuses an authenticate that returns an oversized identity with auth_invalid, and one that throws', async () => {
    const big: Authenticate = () => ({ userId: 'u', data: { blob: 'x'.repeat(4_000) } });
    const { url } = await start(big);
    expect(await post(url, '/netloom/rooms/who/join-or-create', {})).toMatchObject({
      status: 401,
      body: { code: 'auth_invalid' },
    });
    await app?.close();
    const throwing: Authenticate = () => {
      throw new Error('database down');
    };
    const second = await start(throwing);
    expect(await post(second.url, '/netloom/rooms/who/join-or-create', {})).toMatchObject({
      status: 401,
      body: { code: 'auth_invalid' },
    });
  });

  it('isAdmin decides who may lock, unlock and destroy over HTTP', async () => {
    const { url } = await start(jwtAuthenticate(SECRET), {
      isAdmin: (identity) => identity?.data.role === 'admin',
    });
    const player = await jwt({ sub: 'p', name: 'P' });
    const adminToken = await jwt({ sub: 'a', name: 'A', role: 'admin' });
    const ticket = await post(url, '/netloom/rooms/who/join-or-create', {}, player);
    const roomId = ticket.body.roomId as string;
    expect(await post(url, `/netloom/rooms/${roomId}/lock`, {}, player)).toMatchObject({
      status: 403,
      body: { code: 'forbidden' },
    });
    expect(await post(url, `/netloom/rooms/${roomId}/lock`, {}, adminToken)).toMatchObject({
      status: 200,
      body: { id: roomId, locked: true },
    });
    expect(await post(url, `/netloom/rooms/${roomId}/unlock`, {}, adminToken)).toMatchObject({
      status: 200,
      body: { locked: false },
    });
    const del = (token: string) =>
      fetch(`${url}/netloom/rooms/${roomId}`, {
        method: 'DELETE',
        headers: { authorization: `Bearer ${token}` },
      });
    expect((await del(player)).status).toBe(403);
    expect((await del(adminToken)).status).toBe(204);
    expect((await del(adminToken)).status).toBe(404);
  });
});
