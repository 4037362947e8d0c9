// Plugins: from the options (rooms known before start) and via server.use (endpoints, data keys, hooks, routes).
import { afterEach, describe, expect, it } from 'vitest';
import type { Client } from '../../src/client/index.js';
import { NetloomError } from '../../src/codec/errors.js';
import { defineEndpoints, defineProtocol, p } from '../../src/codec/index.js';
import { createServer, defineRoom, type NetloomPlugin } from '../../src/server/index.js';
import { createEchoRoom, echoProtocol, newEchoLog } from '../helpers/echo-room.js';
import type { TestServer } from '../helpers/netloom.js';
import { rpcServer, typedClient } from '../rpc/helpers.js';

let server: TestServer | null = null;
const clients: Client[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await server?.close();
  server = null;
});

const chatProtocol = defineProtocol({
  client: { post: p.object({ text: p.string() }) },
  server: { posted: p.object({ text: p.string() }) },
});

const chatApi = defineEndpoints({
  'chat.count': { request: p.object({}), response: p.object({ posts: p.varuint() }) },
});

/** A chat plugin: a room type, an endpoint over its state, a session-data key and a hook. */
function chatPlugin(): NetloomPlugin & { posts: string[] } {
  const posts: string[] = [];
  return {
    name: 'chat',
    posts,
    rooms: {
      chat: defineRoom({
        protocol: chatProtocol,
        messages: {
          post(room, _client, msg) {
            posts.push(msg.text);
            room.broadcast('posted', { text: msg.text });
          },
        },
      }),
    },
    install(netloom, app) {
      app.get('/chat/health', async () => ({ posts: posts.length }));
      netloom.sessionData.define('chat.muted', p.boolean());
      netloom.endpoint('chat.count', {
        ...chatApi.get('chat.count')!,
        handler: () => ({ posts: posts.length }),
      });
      netloom.hooks.onMessage(
        (e) => !(e.roomType === 'chat' && netloom.sessionData.get(e.sessionId, 'chat.muted')),
      );
    },
  };
}

describe('plugins', () => {
  it('installs a plugin from the options: its room type, endpoint, session-data key and hook', async () => {
    const chat = chatPlugin();
    server = await rpcServer({ plugins: [chat] });
    const netloom = server.app.netloom;
    expect(netloom.plugins()).toEqual(['chat']);
    expect(netloom.rooms.types().sort()).toEqual(['chat', 'echo']);
    expect(netloom.sessionData.keys()).toContain('chat.muted');
    const client = typedClient(server.url, { endpoints: chatApi });
    clients.push(client as unknown as Client);
    const room = await client.joinOrCreate('chat', {}, { protocol: chatProtocol });
    const seen: string[] = [];
    room.on('posted', (m) => seen.push(m.text));
    room.send('post', { text: 'hi' });
    const started = Date.now();
    while (seen.length < 1 && Date.now() - started < 5_000) await new Promise((r) => setTimeout(r, 5));
    expect(seen).toEqual(['hi']);
    expect(await client.call('chat.count', {})).toEqual({ posts: 1 });
    const health = await fetch(`${server.url}/chat/health`);
    expect(await health.json()).toEqual({ posts: 1 });
  });

  it('lets a plugin mute a session through its session-data key and hook', async () => {
    const chat = chatPlugin();
    server = await rpcServer({ plugins: [chat] });
    const netloom = server.app.netloom;
    const sessions: string[] = [];
    netloom.onSessionData('auth.userId', (c) => sessions.push(c.sessionId));
    const client = typedClient(server.url, { endpoints: chatApi, headers: { 'x-user': 'loud' } });
    clients.push(client as unknown as Client);
    const room = await client.joinOrCreate('chat', {}, { protocol: chatProtocol });
    expect(sessions).toHaveLength(1);
    netloom.sessionData.set(sessions[0], 'chat.muted', true);
    room.send('post', { text: 'shout' });
    // The session handles messages in order: once the call is answered, the post was seen (and dropped).
    expect(await client.call('chat.count', {})).toEqual({ posts: 0 });
    netloom.sessionData.set(sessions[0], 'chat.muted', false);
    room.send('post', { text: 'whisper' });
    const started = Date.now();
    while (chat.posts.length < 1 && Date.now() - started < 5_000) await new Promise((r) => setTimeout(r, 5));
    expect(chat.posts).toEqual(['whisper']);
  });

  it('installs plugins at run time with server.use: functions and room types', async () => {
    server = await rpcServer();
    const netloom = server.app.netloom;
    await netloom.use(async function greeter(s) {
      s.endpoint('hello', {
        request: p.object({ name: p.string() }),
        response: p.object({ text: p.string() }),
        handler: (req) => ({ text: `hello ${(req as { name: string }).name}` }),
      });
    });
    const log = newEchoLog();
    await netloom.use({ name: 'second-echo', rooms: { echo2: createEchoRoom(log) } });
    expect(netloom.plugins()).toEqual(['greeter', 'second-echo']);
    const api = defineEndpoints({
      hello: { request: p.object({ name: p.string() }), response: p.object({ text: p.string() }) },
    });
    const client = typedClient(server.url, { endpoints: api });
    clients.push(client as unknown as Client);
    expect(await client.call('hello', { name: 'ann' })).toEqual({ text: 'hello ann' });
    await client.joinOrCreate('echo2', {}, { protocol: echoProtocol });
    expect(log.joins).toHaveLength(1);
  });

  it('refuses a repeated plugin name, a room type clash and malformed plugins with protocol_invalid', async () => {
    server = await rpcServer({ plugins: [chatPlugin()] });
    const netloom = server.app.netloom;
    const codeOfUse = async (plugin: unknown): Promise<string> => {
      try {
        await netloom.use(plugin as NetloomPlugin);
      } catch (err) {
        return err instanceof NetloomError ? err.code : `other: ${String(err)}`;
      }
      return 'ok';
    };
    expect(await codeOfUse(chatPlugin())).toBe('protocol_invalid');
    expect(await codeOfUse({ name: 'other', rooms: { echo: createEchoRoom(newEchoLog()) } })).toBe(
      'protocol_invalid',
    );
    expect(await codeOfUse({ name: '' })).toBe('protocol_invalid');
    expect(await codeOfUse({ name: 'x', install: 'nope' })).toBe('protocol_invalid');
    expect(await codeOfUse(null)).toBe('protocol_invalid');
    expect(await codeOfUse({ name: 'fine' })).toBe('ok');
    expect(netloom.rooms.types().sort()).toEqual(['chat', 'echo']);
  });

  it('fails the start when a plugin install throws, or plugins clash on a room type', async () => {
    const broken: NetloomPlugin = {
      name: 'broken',
      install() {
        throw new NetloomError('protocol_invalid', 'cannot install');
      },
    };
    const log = newEchoLog();
    await expect(
      createServer({ rooms: { echo: createEchoRoom(log) }, plugins: [broken] }),
    ).rejects.toMatchObject({
      code: 'protocol_invalid',
    });
    await expect(
      createServer({
        rooms: { echo: createEchoRoom(log) },
        plugins: [{ name: 'dup', rooms: { echo: createEchoRoom(log) } }],
      }),
    ).rejects.toMatchObject({ code: 'protocol_invalid' });
  });
});
