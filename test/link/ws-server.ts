// Test helper: a Fastify + @fastify/websocket server on 127.0.0.1 that turns each connection into a WebSocketServerLink.
import websocketPlugin from '@fastify/websocket';
import Fastify, { type FastifyInstance } from 'fastify';
import WebSocket from 'ws';
import { connectWebSocket } from '../../src/client/transports/websocket.js';
import type { Link } from '../../src/link/link.js';
import {
  WEBSOCKET_LINK_DEFAULTS,
  WebSocketServerLink,
  type WebSocketServerLinkOptions,
} from '../../src/server/transports/websocket.js';

export interface AcceptedLink {
  link: WebSocketServerLink;
  /** The server-side `ws` socket under the link. */
  socket: WebSocket;
}

export interface WebSocketLinkServer {
  /** `ws://127.0.0.1:<port>/link` */
  url: string;
  app: FastifyInstance;
  /** The next connection to arrive (or one that arrived before the call). */
  accept(): Promise<AcceptedLink>;
  /** Cuts every open socket (a paused peer would never finish a close handshake) and closes the app. */
  close(): Promise<void>;
}

export interface WebSocketLinkServerOptions extends WebSocketServerLinkOptions {
  /** `ws` maxPayload; default the link's maxFrameBytes. */
  maxPayload?: number;
}

/** Starts a server on 127.0.0.1, port 0, with one WebSocket route at /link. */
export async function createWebSocketLinkServer(
  options: WebSocketLinkServerOptions = {},
): Promise<WebSocketLinkServer> {
  const app = Fastify({ logger: false });
  const maxPayload = options.maxPayload ?? options.maxFrameBytes ?? WEBSOCKET_LINK_DEFAULTS.maxFrameBytes;
  await app.register(websocketPlugin, { options: { maxPayload } });
  const arrived: AcceptedLink[] = [];
  const waiting: ((accepted: AcceptedLink) => void)[] = [];
  app.get('/link', { websocket: true }, (socket) => {
    // Created synchronously in the handler so that no message can arrive before the link listens.
    const accepted = { link: new WebSocketServerLink(socket, options), socket };
    const waiter = waiting.shift();
    if (waiter) waiter(accepted);
    else arrived.push(accepted);
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  if (address === null || typeof address === 'string') throw new Error('server has no TCP address');
  return {
    url: `ws://127.0.0.1:${address.port}/link`,
    app,
    accept: () => {
      const ready = arrived.shift();
      return ready ? Promise.resolve(ready) : new Promise((resolve) => waiting.push(resolve));
    },
    close: async () => {
      for (const client of app.websocketServer.clients) client.terminate();
      await app.close();
    },
  };
}

export interface WebSocketLinkPair {
  client: Link;
  server: WebSocketServerLink;
  /** The client's `ws` socket (Node), for tests that pause its reads. */
  clientSocket: WebSocket;
  serverSocket: WebSocket;
  cleanup(): Promise<void>;
}

/** Connects a client link (Node `ws` as the WebSocket) to a server started with `options`. */
export async function createWebSocketLinkPair(
  options: WebSocketLinkServerOptions = {},
): Promise<WebSocketLinkPair> {
  const server = await createWebSocketLinkServer(options);
  const sockets: WebSocket[] = [];
  class CapturingWebSocket extends WebSocket {
    constructor(url: string) {
      super(url);
      sockets.push(this);
    }
  }
  const accepted = server.accept();
  const client = await connectWebSocket(server.url, { WebSocket: CapturingWebSocket });
  const { link, socket } = await accepted;
  return {
    client,
    server: link,
    clientSocket: sockets[0],
    serverSocket: socket,
    cleanup: async () => {
      client.close();
      link.close();
      for (const s of sockets) s.terminate();
      await server.close();
    },
  };
}
