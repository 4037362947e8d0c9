// Session data: declared keys, validation, listeners and export — in unit form and over real sessions.
import { afterEach, describe, expect, it } from 'vitest';
import type { Client } from '../../src/client/index.js';
import { NetloomError } from '../../src/codec/errors.js';
import { defineEndpoints, p } from '../../src/codec/index.js';
import { hasData, type SessionDataChange } from '../../src/server/index.js';
import { Metrics, silentLogger } from '../../src/server/metrics.js';
import { SessionDataStore } from '../../src/server/session-data.js';
import { codeOf } from '../helpers/codes.js';
import { echoProtocol } from '../helpers/echo-room.js';
import type { TestServer } from '../helpers/netloom.js';
import { rpcServer, typedClient } from '../rpc/helpers.js';

function store(): SessionDataStore {
  return new SessionDataStore(silentLogger, new Metrics());
}

describe('SessionDataStore', () => {
  it('stores validated values of declared keys per session and exports them as JSON', () => {
    const s = store();
    const score = s.define(
      'game.score',
      p.object({ points: p.varuint(), big: p.uint64(), tags: p.uint8Array() }),
    );
    s.open('s1', { userId: 'ann', data: { roles: ['admin'] } });
    s.open('s2', undefined);
    s.set('s1', score, { points: 3, big: 5n, tags: new Uint8Array([1, 2]) });
    expect(s.get('s1', score)?.points).toBe(3);
    expect(s.get('s2', score)).toBeUndefined();
    expect(s.get('s1', 'auth.userId')).toBe('ann');
    expect(s.get('s1', 'auth.roles')).toEqual(['admin']);
    expect(s.get('s2', 'auth.userId')).toBeUndefined();
    expect(s.export('s1')).toEqual({
      'auth.userId': 'ann',
      'auth.roles': ['admin'],
      'game.score': { points: 3, big: '5', tags: [1, 2] },
    });
    expect(JSON.parse(JSON.stringify(s.export('s1')))).toEqual(s.export('s1'));
    expect(s.export('nobody')).toEqual({});
    expect(s.keys()).toEqual(['auth.userId', 'auth.roles', 'game.score']);
  });

  it('stores a copy, so later changes to the caller object do not bypass validation', () => {
    const s = store();
    s.open('s1', undefined);
    const roles = ['a'];
    s.set('s1', 'auth.roles', roles);
    roles.push(42 as unknown as string);
    expect(s.get('s1', 'auth.roles')).toEqual(['a']);
  });

  it('refuses bad values, undeclared keys and bad declarations with session_data_invalid', () => {
    const s = store();
    s.open('s1', undefined);
    expect(codeOf(() => s.set('s1', 'auth.roles', 'admin' as never))).toBe('session_data_invalid');
    expect(codeOf(() => s.set('s1', 'auth.roles', [1] as never))).toBe('session_data_invalid');
    expect(codeOf(() => s.set('s1', 'auth.userId', 'x'.repeat(5_000)))).toBe('session_data_invalid');
    expect(codeOf(() => s.set('s1', 'nope', 1))).toBe('session_data_invalid');
    expect(codeOf(() => s.define('bad key', p.string()))).toBe('session_data_invalid');
    expect(codeOf(() => s.define('', p.string()))).toBe('session_data_invalid');
    expect(codeOf(() => s.define('x', { type: 'nope' } as never))).toBe('session_data_invalid');
    expect(codeOf(() => s.define('auth.userId', p.varuint()))).toBe('session_data_invalid');
    expect(codeOf(() => s.define('auth.userId', p.string()))).toBe('ok');
    expect(codeOf(() => s.set('ghost', 'auth.userId', 'a'))).toBe('session_unknown');
    expect(s.get('s1', 'auth.roles')).toBeUndefined();
  });

  it('tells listeners about every change of their key, and survives a throwing listener', () => {
    const s = store();
    s.open('s1', undefined);
    const seen: SessionDataChange[] = [];
    s.on('auth.roles', () => {
      throw new Error('listener bug');
    });
    const off = s.on('auth.roles', (c) => seen.push(c));
    s.set('s1', 'auth.roles', ['a']);
    s.set('s1', 'auth.roles', ['a', 'b']);
    s.set('s1', 'auth.userId', 'ann');
    expect(s.delete('s1', 'auth.roles')).toBe(true);
    expect(s.delete('s1', 'auth.roles')).toBe(false);
    off();
    s.set('s1', 'auth.roles', ['c']);
    expect(seen).toEqual([
      { sessionId: 's1', key: 'auth.roles', value: ['a'], previous: undefined },
      { sessionId: 's1', key: 'auth.roles', value: ['a', 'b'], previous: ['a'] },
      { sessionId: 's1', key: 'auth.roles', value: undefined, previous: ['a', 'b'] },
    ]);
  });

  it('forgets a session when it closes, and seeds from an identity that arrives later', () => {
    const s = store();
    s.open('s1', undefined);
    s.set('s1', 'auth.roles', ['x']);
    s.close('s1');
    expect(s.get('s1', 'auth.roles')).toBeUndefined();
    expect(s.size).toBe(0);
    s.open('s2', undefined);
    s.seed('s2', { userId: 'late', data: { roles: 'not-a-list' } });
    expect(s.export('s2')).toEqual({ 'auth.userId': 'late' });
  });
});

let server: TestServer | null = null;
const clients: Client[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await server?.close();
  server = null;
});

const teamApi = defineEndpoints({
  join: { request: p.object({ team: p.string() }), response: p.object({ sessionId: p.string() }) },
  red: { request: p.object({}), response: p.object({ ok: p.boolean() }) },
});

describe('session data over real sessions', () => {
  it('is seeded from the identity, written by handlers, read by requirements, exported and dropped at the end', async () => {
    server = await rpcServer();
    const netloom = server.app.netloom;
    const team = netloom.sessionData.define('game.team', p.enumeration(['red', 'blue']));
    const userIds: string[] = [];
    const teams: Array<string | undefined> = [];
    netloom.onSessionData('auth.userId', (c) => userIds.push(String(c.value)));
    netloom.onSessionData(team, (c) => teams.push(c.value));
    netloom.endpoint('join', {
      ...teamApi.get('join')!,
      handler: (req, ctx) => {
        ctx.data.set(team, (req as { team: 'red' | 'blue' }).team);
        return { sessionId: ctx.sessionId ?? '' };
      },
    });
    netloom.endpoint('red', {
      ...teamApi.get('red')!,
      requirements: [hasData(team, (t) => t === 'red')],
      handler: () => ({ ok: true }),
    });
    const client = typedClient(server.url, {
      endpoints: teamApi,
      headers: { 'x-user': 'ann', 'x-roles': 'mod' },
    });
    clients.push(client as unknown as Client);
    await client.joinOrCreate('echo', {}, { protocol: echoProtocol });
    expect(userIds).toEqual(['ann']);
    const refused = await client.call('red', {}).catch((e: NetloomError) => e);
    expect((refused as NetloomError).code).toBe('requirement_failed');
    const bad = await client.call('join', { team: 'green' }).catch((e: NetloomError) => e);
    expect((bad as NetloomError).code).toBe('session_data_invalid');
    const { sessionId } = await client.call('join', { team: 'red' });
    expect(await client.call('red', {})).toEqual({ ok: true });
    expect(teams).toEqual(['red']);
    expect(netloom.sessionData.get(sessionId, team)).toBe('red');
    expect(netloom.sessionData.export(sessionId)).toEqual({
      'auth.userId': 'ann',
      'auth.roles': ['mod'],
      'game.team': 'red',
    });
    client.close();
    const started = Date.now();
    while (netloom.sessions.count() > 0 && Date.now() - started < 5_000)
      await new Promise((r) => setTimeout(r, 5));
    expect(netloom.sessionData.export(sessionId)).toEqual({});
    expect(() => netloom.sessionData.set(sessionId, team, 'blue')).toThrow(NetloomError);
  });
});
