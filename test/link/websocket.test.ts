// WebSocket link: the conformance suite over Fastify + @fastify/websocket and Node's ws, plus WebSocket-only behaviour.
import { createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { connectWebSocket, type WebSocketConstructor } from '../../src/client/transports/websocket.js';
import { NetloomError } from '../../src/codec/errors.js';
import { FRAME_SPARE_BYTES } from '../../src/link/link.js';
import { truncateUtf8, wsCloseReason } from '../../src/server/transports/websocket.js';
import { until } from '../helpers/netloom.js';
import { describeLinkConformance, makeFrame, Probe } from './conformance.js';
import { createWebSocketLinkPair, createWebSocketLinkServer, type WebSocketLinkServer } from './ws-server.js';

// Both the DOM's WebSocket and ws's satisfy the structural constructor type (checked by tsc).
const fromWs: WebSocketConstructor = WebSocket;
const fromDom: WebSocketConstructor | undefined = (globalThis as { WebSocket?: typeof globalThis.WebSocket })
  .WebSocket;
void fromWs;
void fromDom;

describeLinkConformance('websocket (Fastify + ws)', () => createWebSocketLinkPair());

/** `ws` keeps its net.Socket in a private field; pausing it makes the peer stop reading. */
function netSocket(socket: WebSocket): Socket {
  return (socket as unknown as { _socket: Socket })._socket;
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function pair(options: Parameters<typeof createWebSocketLinkPair>[0] = {}) {
  const p = await createWebSocketLinkPair(options);
  cleanups.push(() => p.cleanup());
  return p;
}

async function server(
  options: Parameters<typeof createWebSocketLinkServer>[0] = {},
): Promise<WebSocketLinkServer> {
  const s = await createWebSocketLinkServer(options);
  cleanups.push(() => s.close());
  return s;
}

/** A raw ws client (no link) for sending what a well-behaved client never would. */
async function rawClient(
  url: string,
): Promise<{ socket: WebSocket; closed: Promise<{ code: number; reason: string }> }> {
  const socket = new WebSocket(url);
  cleanups.push(() => socket.terminate());
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    socket.on('close', (code, reason) => resolve({ code, reason: reason.toString() })),
  );
  socket.on('error', () => {});
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
  });
  return { socket, closed };
}

describe('WebSocket server link', () => {
  it('drops unreliable frames while the peer does not read, and reliable frames still arrive after', async () => {
    const { client, server: link, clientSocket } = await pair();
    const atClient = new Probe(client, false);
    netSocket(clientSocket).pause();
    // Fill the kernel buffers on both ends (several MB on loopback); then the ws buffer grows and drops start.
    let sent = 0;
    for (let i = 0; i < 5_000 && link.stats().droppedOut < 100; i++)
      if (link.send('unreliable', makeFrame(i, 8_192))) sent++;
    expect(link.stats().droppedOut).toBeGreaterThanOrEqual(100);
    expect(link.stats().framesOut.unreliable).toBe(sent);
    expect(link.bufferedBytes).toBeLessThan(65_536 + 8_192 + 1 + 64);
    expect(link.send('reliable', makeFrame(1, 100))).toBe(true);
    netSocket(clientSocket).resume();
    await atClient.wait(() => atClient.link.stats().framesIn.reliable === 1, 'the reliable frame');
    expect(atClient.link.stats().framesIn.unreliable).toBe(sent);
    expect(link.isOpen).toBe(true);
  });

  it('closes with slow_consumer when a client never reads, keeping the buffer under the limit', async () => {
    const maxBufferedBytes = 1024 * 1024;
    const { client, server: link, clientSocket } = await pair({ maxBufferedBytes });
    const atServer = new Probe(link);
    const atClient = new Probe(client, false);
    netSocket(clientSocket).pause();
    let maxSeen = 0;
    for (let i = 0; i < 10_000 && link.send('reliable', makeFrame(i, 16_384)); i++) {
      maxSeen = Math.max(maxSeen, link.bufferedBytes);
    }
    expect(atServer.closes).toEqual([expect.objectContaining({ code: 'slow_consumer', local: false })]);
    expect(maxSeen).toBeLessThanOrEqual(maxBufferedBytes);
    expect(link.isOpen).toBe(false);
    netSocket(clientSocket).resume();
    await atClient.wait(() => atClient.closes.length > 0, 'client onclose');
    expect(atClient.closes[0]).toMatchObject({ code: 'link_closed', local: false });
  });

  it('closes with frame_too_large when a message exceeds ws maxPayload', async () => {
    const s = await server();
    const accepted = s.accept();
    const { socket } = await rawClient(s.url);
    const atServer = new Probe((await accepted).link);
    socket.send(new Uint8Array(65_536 + 2));
    await atServer.wait(() => atServer.closes.length > 0, 'server onclose');
    expect(atServer.closes).toEqual([expect.objectContaining({ code: 'frame_too_large', local: false })]);
  });

  it('closes with frame_too_large when a message exceeds maxFrameBytes, telling the peer', async () => {
    const s = await server({ maxFrameBytes: 1_001, maxPayload: 100_000 });
    const accepted = s.accept();
    const { socket, closed } = await rawClient(s.url);
    const atServer = new Probe((await accepted).link);
    const ok = new Uint8Array(1_001);
    socket.send(ok);
    await atServer.wait(() => atServer.frames.reliable.length === 1, 'a frame at the limit');
    socket.send(new Uint8Array(1_002));
    await atServer.wait(() => atServer.closes.length > 0, 'server onclose');
    expect(atServer.closes).toEqual([expect.objectContaining({ code: 'frame_too_large', local: false })]);
    const peer = await closed;
    expect(peer.code).toBe(4000);
    expect(peer.reason).toMatch(/^frame_too_large/);
  });

  for (const [what, message] of [
    ['a text message', 'hello'],
    ['an unknown channel tag', new Uint8Array([0x07, 1, 2])],
    ['a message with no frame after the tag', new Uint8Array([0x00])],
    ['an empty message', new Uint8Array(0)],
  ] as const) {
    it(`closes with frame_malformed on ${what}`, async () => {
      const s = await server();
      const accepted = s.accept();
      const { socket, closed } = await rawClient(s.url);
      const atServer = new Probe((await accepted).link);
      socket.send(message);
      await atServer.wait(() => atServer.closes.length > 0, 'server onclose');
      expect(atServer.closes).toEqual([expect.objectContaining({ code: 'frame_malformed', local: false })]);
      expect(atServer.frames.reliable.length + atServer.frames.unreliable.length).toBe(0);
      const peer = await closed;
      expect(peer.code).toBe(4000);
      expect(peer.reason).toMatch(/^frame_malformed/);
    });
  }

  it('sends 1000 for a normal close and 4000 with `code: reason` cut to 123 bytes otherwise', async () => {
    const s = await server();
    const first = s.accept();
    const a = await rawClient(s.url);
    (await first).link.close();
    expect(await a.closed).toEqual({ code: 1000, reason: '' });
    const second = s.accept();
    const b = await rawClient(s.url);
    (await second).link.close('kicked', 'é'.repeat(100));
    const peer = await b.closed;
    expect(peer.code).toBe(4000);
    expect(peer.reason.startsWith('kicked: é')).toBe(true);
    expect(Buffer.byteLength(peer.reason)).toBeLessThanOrEqual(123);
    expect(wsCloseReason('kicked', 'é'.repeat(100))).toBe(peer.reason);
    expect(truncateUtf8('aé', 2)).toBe('a');
  });

  it('reports a peer close with 1000 as normal and the peer reason', async () => {
    const s = await server();
    const accepted = s.accept();
    const { socket } = await rawClient(s.url);
    const atServer = new Probe((await accepted).link);
    socket.close(1000, 'done');
    await atServer.wait(() => atServer.closes.length > 0, 'server onclose');
    expect(atServer.closes).toEqual([{ code: 'normal', reason: 'done', local: false }]);
  });

  it('closes with internal_error when onframe throws, without crashing the process', async () => {
    const { client, server: link } = await pair();
    const atServer = new Probe(link, true, () => {
      throw new Error('handler bug');
    });
    const atClient = new Probe(client);
    client.send('reliable', makeFrame(0, 10));
    await atServer.wait(() => atServer.closes.length > 0, 'server onclose');
    expect(atServer.closes[0]).toMatchObject({ code: 'internal_error', local: false });
    await atClient.wait(() => atClient.closes.length > 0, 'client onclose');
    expect(atClient.closes[0]).toMatchObject({ code: 'link_closed', local: false });
  });
});

describe('WebSocket client link', () => {
  it('drops unreliable frames while the server does not read', async () => {
    const { client, server: link, serverSocket } = await pair();
    const atServer = new Probe(link, false);
    netSocket(serverSocket).pause();
    for (let i = 0; i < 5_000 && client.stats().droppedOut < 100; i++)
      client.send('unreliable', makeFrame(i, 8_192));
    expect(client.stats().droppedOut).toBeGreaterThanOrEqual(100);
    expect(client.send('reliable', makeFrame(1, 100))).toBe(true);
    netSocket(serverSocket).resume();
    await atServer.wait(() => link.stats().framesIn.reliable === 1, 'the reliable frame');
    expect(link.stats().framesIn.unreliable).toBe(client.stats().framesOut.unreliable);
  });

  it('holds frames and a close that arrive before the caller has set its handlers', async () => {
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    cleanups.push(() => new Promise<void>((resolve) => wss.close(() => resolve())));
    await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
    wss.once('connection', (socket) => {
      // Sent at once, so the bytes can arrive with the upgrade response, before connectWebSocket's caller resumes.
      for (let i = 0; i < 3; i++) socket.send(Buffer.concat([Buffer.from([0x00]), makeFrame(i, 16)]));
      socket.send(Buffer.concat([Buffer.from([0x01]), makeFrame(9, 16)]));
      socket.close(1000, 'bye');
    });
    const { port } = wss.address() as { port: number };
    const client = await connectWebSocket(`ws://127.0.0.1:${port}/`, { WebSocket });
    await new Promise<void>((resolve) => setTimeout(resolve, 20));
    const atClient = new Probe(client);
    await atClient.wait(() => atClient.closes.length > 0, 'client onclose');
    expect(atClient.frames.reliable.map((f) => f[0])).toEqual([0, 1, 2]);
    expect(atClient.frames.unreliable.map((f) => f[0])).toEqual([9]);
    expect(atClient.closes).toEqual([{ code: 'normal', reason: 'bye', local: false }]);
    expect(client.stats().framesIn).toEqual({ reliable: 3, unreliable: 1 });
  });

  it('rejects with transport_unavailable when there is no WebSocket constructor', async () => {
    const g = globalThis as { WebSocket?: unknown };
    const saved = g.WebSocket;
    delete g.WebSocket;
    try {
      const err = await connectWebSocket('ws://127.0.0.1:1/').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(NetloomError);
      expect((err as NetloomError).code).toBe('transport_unavailable');
    } finally {
      if (saved !== undefined) g.WebSocket = saved;
    }
  });

  it('rejects with link_error when the connection is refused', async () => {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const { port } = probe.address() as { port: number };
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const err = await connectWebSocket(`ws://127.0.0.1:${port}/`, { WebSocket }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NetloomError);
    expect((err as NetloomError).code).toBe('link_error');
  });

  it('rejects with link_error when the server never answers the upgrade', async () => {
    const held: Socket[] = [];
    const silent: Server = createServer((socket) => held.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    cleanups.push(
      () =>
        new Promise<void>((resolve) => {
          for (const socket of held) socket.destroy();
          silent.close(() => resolve());
        }),
    );
    const { port } = silent.address() as { port: number };
    const err = await connectWebSocket(`ws://127.0.0.1:${port}/`, { WebSocket, timeoutMs: 100 }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(NetloomError);
    expect((err as NetloomError).code).toBe('link_error');
    expect((err as NetloomError).message).toMatch(/not open after 100 ms/);
  });

  it('rejects with link_error on a malformed URL', async () => {
    const err = await connectWebSocket('not a url', { WebSocket }).catch((e: unknown) => e);
    expect((err as NetloomError).code).toBe('link_error');
  });

  for (const [what, message] of [
    ['a text message', 'hello'],
    ['an unknown channel tag', new Uint8Array([0x09, 1])],
  ] as const) {
    it(`closes with frame_malformed on ${what} from the server, telling it`, async () => {
      const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
      cleanups.push(() => new Promise<void>((resolve) => wss.close(() => resolve())));
      await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
      const serverClosed = new Promise<{ code: number; reason: string }>((resolve) =>
        wss.once('connection', (socket) => {
          socket.on('close', (code, reason) => resolve({ code, reason: reason.toString() }));
          socket.send(message);
        }),
      );
      const { port } = wss.address() as { port: number };
      const client = await connectWebSocket(`ws://127.0.0.1:${port}/`, { WebSocket });
      const atClient = new Probe(client);
      await atClient.wait(() => atClient.closes.length > 0, 'client onclose');
      expect(atClient.closes).toEqual([expect.objectContaining({ code: 'frame_malformed', local: false })]);
      const peer = await serverClosed;
      expect(peer.code).toBe(4000);
      expect(peer.reason).toMatch(/^frame_malformed/);
    });
  }
});

describe('copy-free sends (sendWithSpare)', () => {
  it('delivers frames of every header size intact and in order, both ways, mixed with plain sends', async () => {
    const { client, server } = await pair({ maxFrameBytes: 70_000 });
    const sizes = [1, 120, 123, 124, 125, 126, 127, 1_000, 65_533, 65_534, 65_535, 65_536];
    const spared = (size: number, seed: number) => {
      const buffer = new Uint8Array(FRAME_SPARE_BYTES + size);
      buffer.set(makeFrame(seed, size), FRAME_SPARE_BYTES);
      return buffer;
    };
    for (const [from, to] of [
      [server, client],
      [client, server],
    ] as const) {
      const got: Array<{ channel: string; bytes: Uint8Array }> = [];
      to.onframe = (frame, channel) => got.push({ channel, bytes: frame.slice() });
      const expected: Uint8Array[] = [];
      sizes.forEach((size, i) => {
        const buffer = spared(size, i);
        expected.push(buffer.slice(FRAME_SPARE_BYTES));
        if (!from.sendWithSpare) throw new Error('link has no sendWithSpare');
        expect(from.sendWithSpare('reliable', buffer)).toBe(true);
        expect(buffer.subarray(FRAME_SPARE_BYTES)).toEqual(expected[expected.length - 1]); // frame untouched
        const plain = makeFrame(100 + i, 50);
        expected.push(plain);
        from.send('reliable', plain);
      });
      await until(() => got.length === expected.length, 5_000, 'frames');
      expect(got.map((g) => g.channel)).toEqual(expected.map(() => 'reliable'));
      expect(got.map((g) => g.bytes)).toEqual(expected);
    }
  });
});

describe('corked sends', () => {
  it('writes the frames sent between cork and uncork to the TCP socket in one writev, intact', async () => {
    const s = await server();
    const { socket: peer } = await rawClient(s.url);
    const { link, socket } = await s.accept();
    const tcp = netSocket(socket) as Socket & { _writev: (...args: unknown[]) => unknown };
    let writevs = 0;
    const writev = tcp._writev.bind(tcp);
    tcp._writev = (...args: unknown[]) => {
      writevs++;
      return writev(...args);
    };
    const got: Buffer[] = [];
    peer.on('message', (data: Buffer) => got.push(data));
    const ack = makeFrame(1, 3);
    const state = makeFrame(2, 40);
    const spared = new Uint8Array(FRAME_SPARE_BYTES + state.length);
    spared.set(state, FRAME_SPARE_BYTES);
    if (!link.cork || !link.uncork || !link.sendWithSpare) throw new Error('link cannot cork');
    link.cork();
    expect(link.send('reliable', ack)).toBe(true);
    expect(link.sendWithSpare('unreliable', spared)).toBe(true);
    link.uncork();
    expect(writevs).toBe(1);
    await until(() => got.length === 2, 5_000, 'both messages');
    expect(new Uint8Array(got[0])).toEqual(new Uint8Array([0, ...ack]));
    expect(new Uint8Array(got[1])).toEqual(new Uint8Array([1, ...state]));
  });
});
