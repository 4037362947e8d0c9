// Loss-free resume: links killed mid-stream, reliable traffic complete and in order both ways, seats kept.
import { afterEach, describe, expect, it } from 'vitest';
import type { Client, ConditionedLink } from '../../src/client/index.js';
import { conditionLink } from '../../src/client/index.js';
import { echoProtocol } from '../helpers/echo-room.js';
import { nodeClient, startEchoServer, type TestServer, until } from '../helpers/netloom.js';

let server: TestServer | null = null;
const clients: Client[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await server?.close();
  server = null;
});

function conditionedClient(
  links: ConditionedLink[],
  options: { loss?: number; latencyMs?: number } = {},
): Client {
  if (!server) throw new Error('no server');
  const c = nodeClient(server.url, {
    reconnect: { baseDelayMs: 20, maxDelayMs: 100 },
    wrapLink: (link) => {
      const conditioned = conditionLink(link, {
        loss: options.loss ?? 0,
        latencyMs: options.latencyMs ?? 0,
        seed: links.length + 1,
      });
      links.push(conditioned);
      return conditioned;
    },
  });
  clients.push(c);
  return c;
}

describe('session resume', () => {
  it('loses, duplicates and reorders nothing reliable across repeated link kills', async () => {
    server = await startEchoServer();
    const links: ConditionedLink[] = [];
    const room = await conditionedClient(links, { loss: 0.2, latencyMs: 2 }).joinOrCreate(
      'echo',
      {},
      {
        protocol: echoProtocol,
      },
    );
    const echoed: number[] = [];
    room.on('said', (m) => echoed.push(m.n));
    let reconnects = 0;
    room.on('reconnected', () => reconnects++);
    const total = 2_000;
    for (let n = 1; n <= total; n++) {
      room.send('say', { n, text: 'x'.repeat(n % 50) });
      room.send('blip', { n }, { reliable: false });
      if (n % 400 === 0) {
        links[links.length - 1].kill('test kills the link');
        await until(() => reconnects === n / 400, 5_000, `reconnect ${n / 400}`);
      } else if (n % 50 === 0) {
        await new Promise((r) => setTimeout(r, 1));
      }
    }
    await until(() => echoed.length >= total, 10_000, 'all echoes');
    await new Promise((r) => setTimeout(r, 50));
    const expected = Array.from({ length: total }, (_, i) => i + 1);
    expect(server.log.received.get(room.clientId)).toEqual(expected); // client -> server
    expect(echoed).toEqual(expected); // server -> client
    expect(reconnects).toBe(total / 400);
    expect(server.log.drops.length).toBe(total / 400);
    expect(server.log.reconnects.length).toBe(total / 400);
    expect(server.log.leaves).toEqual([]);
    expect(server.app.netloom.metrics()['sessions_resumed']).toBe(total / 400);
  });

  it('ends the membership with session_expired when the reconnection window runs out', async () => {
    server = await startEchoServer({ reconnectionMs: 100 });
    const links: ConditionedLink[] = [];
    const c = nodeClient(server.url, {
      reconnect: { baseDelayMs: 400, maxDelayMs: 400 },
      wrapLink: (link) => {
        const conditioned = conditionLink(link, {});
        links.push(conditioned);
        return conditioned;
      },
    });
    clients.push(c);
    const room = await c.joinOrCreate('echo', {}, { protocol: echoProtocol });
    const left: Array<{ code: string }> = [];
    room.on('leave', (e) => left.push(e));
    links[0].kill();
    await until(() => left.length === 1, 5_000, 'leave');
    expect(left[0].code).toBe('session_unknown');
    expect(server.log.leaves).toEqual([{ id: room.clientId, reason: 'reconnection_expired' }]);
  });

  it('detects a silent dead link by idle timeout and resumes', async () => {
    server = await startEchoServer({ session: { idleTimeoutMs: 300, pingIntervalMs: 50 } });
    const links: ConditionedLink[] = [];
    const room = await conditionedClient(links).joinOrCreate('echo', {}, { protocol: echoProtocol });
    const events: string[] = [];
    room.on('reconnecting', () => events.push('reconnecting'));
    room.on('reconnected', () => events.push('reconnected'));
    // Black-hole the link: frames stop flowing both ways but nobody closes it.
    const inner = links[0].inner;
    inner.onframe = null;
    const send = inner.send.bind(inner);
    inner.send = () => true;
    await until(() => events.includes('reconnected'), 5_000, 'resume after idle');
    inner.send = send;
    const said: number[] = [];
    room.on('said', (m) => said.push(m.n));
    room.send('say', { n: 1, text: '' });
    await until(() => said.length === 1);
    expect(events[0]).toBe('reconnecting');
  });
});
