// Test helpers: start a netloom server on loopback with the echo room, and make Node clients for it.
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import WebSocket from 'ws';
import { Client, type ClientOptions, type WebSocketConstructor } from '../../src/client/index.js';
import { type CreateServerOptions, createServer } from '../../src/server/index.js';
import { createEchoRoom, type EchoLog, newEchoLog } from './echo-room.js';

export interface TestServer {
  app: FastifyInstance;
  url: string;
  port: number;
  log: EchoLog;
  close(): Promise<void>;
}

export async function startEchoServer(
  options: Partial<CreateServerOptions> & {
    reconnectionMs?: number;
    tickRate?: number;
    maxClients?: number;
  } = {},
): Promise<TestServer> {
  const log = newEchoLog();
  const { reconnectionMs, tickRate, maxClients, ...rest } = options;
  const app = await createServer({
    rooms: { echo: createEchoRoom(log, { reconnectionMs, tickRate, maxClients }) },
    ...rest,
    // Stress tests send thousands of messages at once: the per-client message rate limit is off here
    // unless a test sets `session.limits` itself (test/ops/rate-limit.test.ts does).
    session: { ...rest.session, limits: rest.session?.limits ?? { messagesPerSecond: 0 } },
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  await app.netloom.cluster?.ready();
  const port = (app.server.address() as AddressInfo).port;
  return { app, url: `http://127.0.0.1:${port}`, port, log, close: () => app.close() };
}

/** A Node client (ws as the WebSocket constructor). */
export function nodeClient(url: string, options: ClientOptions = {}): Client {
  return new Client(url, { WebSocket: WebSocket as unknown as WebSocketConstructor, ...options });
}

/** Resolves when `predicate` holds, polling on a short timer; rejects after `timeoutMs`. */
export async function until(predicate: () => boolean, timeoutMs = 5_000, what = 'condition'): Promise<void> {
  const started = Date.now();
  while (!predicate()) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
