// Multicast and broadcast: typed server pushes to every live session or to those a filter accepts.
import { afterEach, describe, expect, it } from 'vitest';
import type { Client } from '../../src/client/index.js';
import { NetloomError } from '../../src/codec/errors.js';
import { defineProtocol, p } from '../../src/codec/index.js';
import { typedPush } from '../../src/server/index.js';
import { echoProtocol } from '../helpers/echo-room.js';
import type { TestServer } from '../helpers/netloom.js';
import { rpcServer, settle, typedClient } from '../rpc/helpers.js';

const notices = defineProtocol({
  client: {},
  server: {
    chat: p.object({ from: p.string(), text: p.string() }),
    score: p.object({ n: p.varuint() }),
  },
});

let server: TestServer | null = null;
const clients: Client[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await server?.close();
  server = null;
});

async function player(user: string, roles = '') {
  if (!server) throw new Error('no server');
  const client = typedClient(server.url, { notices, headers: { 'x-user': user, 'x-roles': roles } });
  clients.push(client as unknown as Client);
  await client.joinOrCreate('echo', {}, { protocol: echoProtocol });
  const chats: string[] = [];
  const scores: number[] = [];
  client.on('chat', (m) => chats.push(`${m.from}:${m.text}`));
  client.on('score', (m) => scores.push(m.n));
  return { client, chats, scores };
}

async function until(predicate: () => boolean): Promise<void> {
  const started = Date.now();
  while (!predicate()) {
    if (Date.now() - started > 5_000) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('server pushes', () => {
  it('broadcasts a typed message to every live session', async () => {
    server = await rpcServer({ notices });
    const ann = await player('ann');
    const bob = await player('bob');
    expect(server.app.netloom.broadcast('chat', { from: 'server', text: 'hello all' })).toBe(2);
    await until(() => ann.chats.length === 1 && bob.chats.length === 1);
    expect(ann.chats).toEqual(['server:hello all']);
    expect(bob.chats).toEqual(['server:hello all']);
  });

  it('multicasts to the sessions a filter over identity and session data accepts, in order', async () => {
    server = await rpcServer({ notices });
    const ann = await player('ann', 'admin');
    const bob = await player('bob');
    const cat = await player('cat', 'admin');
    const push = typedPush(server.app.netloom, notices);
    const admins = (s: { data: { get(key: 'auth.roles'): string[] | undefined } }) =>
      s.data.get('auth.roles')?.includes('admin') === true;
    for (let n = 1; n <= 5; n++) expect(push.multicast(admins, 'score', { n })).toBe(2);
    expect(push.multicast((s) => s.identity?.userId === 'bob', 'chat', { from: 'gm', text: 'psst' })).toBe(1);
    await until(() => ann.scores.length === 5 && cat.scores.length === 5 && bob.chats.length === 1);
    await settle();
    expect(ann.scores).toEqual([1, 2, 3, 4, 5]);
    expect(cat.scores).toEqual([1, 2, 3, 4, 5]);
    expect(bob.scores).toEqual([]);
    expect(bob.chats).toEqual(['gm:psst']);
    expect(ann.chats).toEqual([]);
  });

  it('skips a session whose filter throws, and pushes to a single session', async () => {
    server = await rpcServer({ notices });
    const ann = await player('ann');
    const bob = await player('bob');
    const netloom = server.app.netloom;
    const sent = netloom.multicast(
      (s) => {
        if (s.identity?.userId === 'ann') throw new Error('filter bug');
        return true;
      },
      'score',
      { n: 7 },
    );
    expect(sent).toBe(1);
    let bobSession = '';
    netloom.multicast(
      (s) => {
        if (s.identity?.userId === 'bob') bobSession = s.id;
        return false;
      },
      'score',
      { n: 0 },
    );
    expect(netloom.push(bobSession, 'chat', { from: 'gm', text: 'just you' })).toBe(true);
    expect(netloom.push('no-such-session', 'chat', { from: 'gm', text: 'lost' })).toBe(false);
    await until(() => bob.scores.length === 1 && bob.chats.length === 1);
    await settle();
    expect(ann.scores).toEqual([]);
    expect(ann.chats).toEqual([]);
    expect(bob.chats).toEqual(['gm:just you']);
    expect(server.app.netloom.metrics()['hook_errors{multicast}']).toBe(1);
  });

  it('refuses pushes that do not fit the notices protocol, or without one', async () => {
    server = await rpcServer({ notices });
    const codeOfPush = (fn: () => unknown): string => {
      try {
        fn();
      } catch (err) {
        return err instanceof NetloomError ? err.code : 'other';
      }
      return 'ok';
    };
    expect(codeOfPush(() => server?.app.netloom.broadcast('chat', { from: 1 }))).toBe('encode_invalid');
    expect(codeOfPush(() => server?.app.netloom.broadcast('nope', {}))).toBe('unknown_op');
    expect(
      codeOfPush(() => server?.app.netloom.broadcast('chat', { from: 'a', text: 'x'.repeat(70_000) })),
    ).toBe('encode_invalid');
    await server.close();
    server = await rpcServer();
    expect(codeOfPush(() => server?.app.netloom.broadcast('chat', { from: 'a', text: 'b' }))).toBe(
      'protocol_invalid',
    );
  });

  it('reports a push the client cannot decode as an error event', async () => {
    server = await rpcServer({ notices });
    const plain = typedClient(server.url, {});
    clients.push(plain as unknown as Client);
    await plain.joinOrCreate('echo', {}, { protocol: echoProtocol });
    const errors: NetloomError[] = [];
    plain.on('error', (e) => errors.push(e));
    server.app.netloom.broadcast('score', { n: 1 });
    await until(() => errors.length === 1);
    expect(errors[0].code).toBe('unknown_op');
  });

  it('refuses a notices protocol whose names clash with client events', () => {
    const clashing = defineProtocol({ client: {}, server: { notice: p.object({}) } });
    expect(() => typedClient('http://127.0.0.1:1', { notices: clashing })).toThrow(
      expect.objectContaining({ code: 'protocol_invalid' }),
    );
  });
});
