// Graceful shutdown over real sockets: hooks, 503 for new joins, clients told server_shutdown, onDispose, the bound.
import { afterEach, describe, expect, it } from 'vitest';
import type { Client } from '../../src/client/index.js';
import { NetloomError } from '../../src/codec/errors.js';
import { createServer } from '../../src/server/index.js';
import { echoProtocol } from '../helpers/echo-room.js';
import { nodeClient, startEchoServer, type TestServer, until } from '../helpers/netloom.js';
import { rawPeer } from '../helpers/raw-ws.js';

const servers: TestServer[] = [];
const clients: Client[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  for (const s of servers.splice(0)) await s.close();
});

async function server(options: Parameters<typeof startEchoServer>[0] = {}): Promise<TestServer> {
  const s = await startEchoServer(options);
  servers.push(s);
  return s;
}

function client(s: TestServer): Client {
  const c = nodeClient(s.url);
  clients.push(c);
  return c;
}

describe('lifecycle hooks', () => {
  it('runs bootstrap before listening and onStarted after, with the server API', async () => {
    const events: string[] = [];
    const s = await server({
      hooks: {
        bootstrap: (api) => void events.push(`bootstrap:${api.rooms.types().join()}`),
        onStarted: () => void events.push('started'),
      },
    });
    s.app.netloom.hooks.onShutdown(() => void events.push('shutdown'));
    expect(events).toEqual(['bootstrap:echo', 'started']);
    await s.app.close();
    expect(events).toEqual(['bootstrap:echo', 'started', 'shutdown']);
  });

  it('a throwing bootstrap aborts the start: listen rejects and nothing listens', async () => {
    const app = await createServer({
      rooms: {},
      hooks: {
        bootstrap: async () => {
          throw new Error('migrations failed');
        },
      },
    });
    await expect(app.listen({ port: 0, host: '127.0.0.1' })).rejects.toThrow('migrations failed');
    expect(app.server.listening).toBe(false);
    await app.close();
  });
});

describe('graceful shutdown', () => {
  it('stops new joins, runs onShutdown, tells clients server_shutdown, lets rooms dispose, then closes', async () => {
    const order: string[] = [];
    let duringShutdown: { join: string; health: number; metricsStatus: number } | null = null;
    const s = await server();
    const c = client(s);
    const room = await c.joinOrCreate('echo', { name: 'ann' }, { protocol: echoProtocol });
    c.on('notice', (n) => order.push(`notice:${n.code}`));
    room.on('leave', (l) => order.push(`leave:${l.code}`));

    s.app.netloom.hooks.onShutdown(async () => {
      order.push('hook');
      const late = client(s);
      const join = await late.joinOrCreate('echo', {}, { protocol: echoProtocol }).then(
        () => 'joined',
        (err: unknown) => (err instanceof NetloomError ? err.code : String(err)),
      );
      const health = (await fetch(`${s.url}/healthz`)).status;
      const metricsStatus = (await fetch(`${s.url}/metrics`)).status;
      duringShutdown = { join, health, metricsStatus };
      // a raw link opened now is refused with a CLOSE server_shutdown
      const peer = await rawPeer(s.port);
      order.push(`raw:${(await peer.closed).closeFrameCode}`);
    });

    const report = await s.app.netloom.shutdown({ reason: 'maintenance' });
    expect(report).toEqual({ timedOut: false, hookErrors: 0, sessionsClosed: 1 });
    expect(duringShutdown).toEqual({ join: 'server_shutdown', health: 503, metricsStatus: 200 });
    expect(s.log.disposed).toBe(1);
    expect(s.log.leaves).toHaveLength(1);
    await until(() => order.includes('leave:server_shutdown'), 5_000, 'client told');
    expect(order).toEqual(['hook', 'raw:server_shutdown', 'notice:server_shutdown', 'leave:server_shutdown']);
    expect(s.app.server.listening).toBe(false);
    expect(s.app.netloom.metrics()['errors{server_shutdown}']).toBeGreaterThanOrEqual(1);
  });

  it('app.close() also shuts down gracefully: the client hears server_shutdown, not a bare socket close', async () => {
    const s = await server();
    const c = client(s);
    const room = await c.joinOrCreate('echo', {}, { protocol: echoProtocol });
    const notices: string[] = [];
    c.on('notice', (n) => notices.push(n.code));
    let leave = '';
    room.on('leave', (l) => {
      leave = l.code;
    });
    await s.app.close();
    await until(() => leave !== '', 5_000, 'leave');
    expect(leave).toBe('server_shutdown');
    expect(notices).toEqual(['server_shutdown']);
    expect(s.log.disposed).toBe(1);
  });

  it('ends within the bound when an onShutdown hook hangs, and still closes clients and disposes rooms', async () => {
    const s = await server({ shutdownTimeoutMs: 60_000 });
    const c = client(s);
    const room = await c.joinOrCreate('echo', {}, { protocol: echoProtocol });
    let leave = '';
    room.on('leave', (l) => {
      leave = l.code;
    });
    s.app.netloom.hooks.onShutdown(() => new Promise<void>(() => {}));
    const report = await s.app.netloom.shutdown({ timeoutMs: 150 });
    expect(report.timedOut).toBe(true);
    expect(s.log.disposed).toBe(1);
    await until(() => leave !== '', 5_000, 'leave');
    expect(leave).toBe('server_shutdown');
    expect(s.app.server.listening).toBe(false);
  });
});
