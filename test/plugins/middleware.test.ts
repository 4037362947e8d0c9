// Middleware: onMessage sees and can drop room messages from clients; onSend sees and can drop messages to them.
import { afterEach, describe, expect, it } from 'vitest';
import type { Client } from '../../src/client/index.js';
import { NetloomError } from '../../src/codec/errors.js';
import { defineProtocol, p } from '../../src/codec/index.js';
import type { MessageEvent, SendEvent } from '../../src/server/index.js';
import { echoProtocol } from '../helpers/echo-room.js';
import type { TestServer } from '../helpers/netloom.js';
import { rpcServer, settle, typedClient } from '../rpc/helpers.js';

let server: TestServer | null = null;
const clients: Client[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await server?.close();
  server = null;
});

async function until(predicate: () => boolean): Promise<void> {
  const started = Date.now();
  while (!predicate()) {
    if (Date.now() - started > 5_000) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 5));
  }
}

const notices = defineProtocol({ client: {}, server: { news: p.object({ text: p.string() }) } });

async function join(user: string) {
  if (!server) throw new Error('no server');
  const client = typedClient(server.url, { notices, headers: { 'x-user': user } });
  clients.push(client as unknown as Client);
  const room = await client.joinOrCreate('echo', {}, { protocol: echoProtocol });
  const said: string[] = [];
  room.on('said', (m) => said.push(m.text));
  const news: string[] = [];
  client.on('news', (m) => news.push(m.text));
  return { client, room, said, news };
}

describe('middleware', () => {
  it('onMessage sees room, client, name and size, and drops what it returns false for', async () => {
    server = await rpcServer();
    const events: MessageEvent[] = [];
    server.app.netloom.hooks.onMessage((e) => {
      events.push({ ...e, name: e.name, payload: new Uint8Array(e.payload) });
      return e.name !== 'say' || !new TextDecoder().decode(e.payload).includes('spam');
    });
    const ann = await join('ann');
    ann.room.send('say', { n: 1, text: 'hello' });
    ann.room.send('say', { n: 2, text: 'buy spam now' });
    ann.room.send('say', { n: 3, text: 'bye' });
    await until(() => ann.said.length === 2);
    await settle();
    expect(ann.said).toEqual(['hello', 'bye']);
    expect(server.log.received.get(ann.room.clientId)).toEqual([1, 3]);
    expect(events).toHaveLength(3);
    expect(events[0]).toMatchObject({
      roomId: ann.room.id,
      roomType: 'echo',
      clientId: ann.room.clientId,
      name: 'say',
      op: echoProtocol.client.opOf('say'),
    });
    expect(events[0].identity?.userId).toBe('ann');
    expect(events[0].size).toBe(events[0].payload.length);
    expect(server.app.netloom.metrics()['messages_dropped{onMessage}']).toBe(1);
  });

  it('drops a message whose hook throws, counts the code, and stops dropping once the hook is removed', async () => {
    server = await rpcServer();
    const remove = server.app.netloom.hooks.onMessage((e) => {
      if (e.name === 'say') throw new NetloomError('forbidden', 'muted');
    });
    const ann = await join('ann');
    ann.room.send('say', { n: 1, text: 'muted' });
    await settle();
    remove();
    ann.room.send('say', { n: 2, text: 'free' });
    await until(() => ann.said.length === 1);
    expect(ann.said).toEqual(['free']);
    expect(server.app.netloom.metrics()['errors{forbidden}']).toBe(1);
  });

  it('onSend sees room messages and pushes, and drops what it returns false for', async () => {
    server = await rpcServer({ notices });
    const sent: SendEvent[] = [];
    server.app.netloom.hooks.onSend((e) => {
      sent.push({ ...e, payload: new Uint8Array(e.payload) });
      return e.identity?.userId !== 'bob';
    });
    const ann = await join('ann');
    const bob = await join('bob');
    ann.room.send('say', { n: 1, text: 'to all' });
    await until(() => ann.said.length === 1);
    expect(server.app.netloom.broadcast('news', { text: 'extra' })).toBe(1);
    await until(() => ann.news.length === 1);
    await settle();
    expect(ann.news).toEqual(['extra']);
    expect(bob.said).toEqual([]);
    expect(bob.news).toEqual([]);
    const roomSends = sent.filter((e) => e.kind === 'room' && e.op === echoProtocol.server.opOf('said'));
    expect(roomSends.map((e) => e.identity?.userId).sort()).toEqual(['ann', 'bob']);
    expect(roomSends[0].roomId).toBe(ann.room.id);
    const pushes = sent.filter((e) => e.kind === 'push');
    expect(pushes.map((e) => e.identity?.userId).sort()).toEqual(['ann', 'bob']);
    expect(pushes[0].roomId).toBeUndefined();
    expect(pushes[0].reliable).toBe(true);
  });
});
