// The server link's fast WebSocket reader: any framing and any TCP chunking delivers exactly what ws would, and hostile frames still fail as ws reports them.
import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { LinkCloseInfo } from '../../src/link/link.js';
import { mulberry32 } from '../../src/shared/random.js';
import { until } from '../helpers/netloom.js';
import { createWebSocketLinkServer, type WebSocketLinkServerOptions } from './ws-server.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

interface FrameOptions {
  fin?: boolean;
  masked?: boolean;
  rsv?: number;
  /** Use the 64-bit length form even for a short payload. */
  long?: boolean;
}

/** One client-to-server WebSocket frame (RFC 6455 §5.2), masked unless told otherwise. */
function wsFrame(opcode: number, payload: Uint8Array, options: FrameOptions = {}): Buffer {
  const { fin = true, masked = true, rsv = 0, long = false } = options;
  const n = payload.length;
  const head: number[] = [(fin ? 0x80 : 0) | (rsv << 4) | opcode];
  const maskBit = masked ? 0x80 : 0;
  if (long)
    head.push(maskBit | 127, 0, 0, 0, 0, (n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff);
  else if (n < 126) head.push(maskBit | n);
  else head.push(maskBit | 126, n >>> 8, n & 0xff);
  const mask = masked ? randomBytes(4) : Buffer.alloc(0);
  const body = Buffer.from(payload);
  if (masked) for (let i = 0; i < n; i++) body[i] ^= mask[i & 3];
  return Buffer.concat([Buffer.from(head), mask, body]);
}

/** A netloom link frame behind its channel tag (0x01 = unreliable), with a recognisable body. */
function linkMessage(id: number, size = 8): Buffer {
  const out = Buffer.alloc(Math.max(size, 5));
  out[0] = 0x01;
  out.writeUInt32BE(id, 1);
  for (let i = 5; i < out.length; i++) out[i] = (id + i) & 0xff;
  return out;
}

interface RawPeer {
  tcp: Socket;
  /** Server-to-client frames seen so far: opcode and payload. */
  frames: { opcode: number; payload: Buffer }[];
  write(bytes: Buffer): Promise<void>;
}

/** A TCP client that does the WebSocket upgrade by hand and then writes whatever bytes a test wants. */
async function rawPeer(url: string): Promise<RawPeer> {
  const { hostname, port, pathname } = new URL(url);
  const tcp = connect(Number(port), hostname);
  tcp.setNoDelay(true);
  cleanups.push(() => void tcp.destroy());
  await new Promise<void>((resolve, reject) => {
    tcp.once('connect', resolve);
    tcp.once('error', reject);
  });
  tcp.on('error', () => {});
  const key = randomBytes(16).toString('base64');
  tcp.write(
    `GET ${pathname} HTTP/1.1\r\nHost: ${hostname}:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
  );
  const frames: RawPeer['frames'] = [];
  let pending = Buffer.alloc(0);
  let upgraded = false;
  await new Promise<void>((resolve, reject) => {
    tcp.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      if (!upgraded) {
        const end = pending.indexOf('\r\n\r\n');
        if (end < 0) return;
        const head = pending.subarray(0, end).toString();
        if (!head.startsWith('HTTP/1.1 101')) reject(new Error(`upgrade refused: ${head}`));
        upgraded = true;
        pending = pending.subarray(end + 4);
        resolve();
      }
      // Server frames are unmasked and short in these tests.
      while (pending.length >= 2 && pending.length >= 2 + (pending[1] & 0x7f)) {
        const n = pending[1] & 0x7f;
        frames.push({ opcode: pending[0] & 0x0f, payload: Buffer.from(pending.subarray(2, 2 + n)) });
        pending = pending.subarray(2 + n);
      }
    });
  });
  const write = (bytes: Buffer) =>
    new Promise<void>((resolve, reject) => tcp.write(bytes, (err) => (err ? reject(err) : resolve())));
  return { tcp, frames, write };
}

async function linkServer(options: WebSocketLinkServerOptions = {}) {
  const server = await createWebSocketLinkServer(options);
  cleanups.push(() => server.close());
  const accepted = server.accept();
  const peer = await rawPeer(server.url);
  const { link, socket } = await accepted;
  // The fast reader replaced ws's own `data` listener (unless turned off): these tests exercise it.
  const tcp = (socket as unknown as { _socket: Socket })._socket;
  expect(tcp.listeners('data').map((f) => f.name === 'socketOnData')).toEqual([options.fastReader === false]);
  const received: Buffer[] = [];
  let closed: LinkCloseInfo | null = null;
  link.onframe = (frame, channel) => {
    expect(channel).toBe('unreliable');
    received.push(Buffer.from(frame));
  };
  link.onclose = (info) => {
    closed = info;
  };
  return { peer, link, tcp, received, closedInfo: () => closed };
}

/** Splits `bytes` into chunks at the given cut points and writes them one by one (each its own TCP segment). */
async function writeInChunks(peer: RawPeer, bytes: Buffer, cuts: number[]): Promise<void> {
  let from = 0;
  for (const cut of [...cuts.filter((c) => c > 0 && c < bytes.length).sort((a, b) => a - b), bytes.length]) {
    if (cut <= from) continue;
    await peer.write(bytes.subarray(from, cut));
    await new Promise((r) => setImmediate(r));
    from = cut;
  }
}

describe('WebSocket fast reader', () => {
  it('delivers many frames from one TCP write, and a frame cut byte by byte, in order and intact', async () => {
    const { peer, received } = await linkServer();
    const first = Buffer.concat(Array.from({ length: 50 }, (_, i) => wsFrame(2, linkMessage(i, 16))));
    await peer.write(first);
    const second = Buffer.concat([wsFrame(2, linkMessage(50, 300)), wsFrame(2, linkMessage(51, 20))]);
    await writeInChunks(
      peer,
      second,
      Array.from({ length: second.length }, (_, i) => i),
    );
    await until(() => received.length === 52);
    expect(received.map((f) => f.readUInt32BE(0))).toEqual(Array.from({ length: 52 }, (_, i) => i));
    expect(received[50]).toEqual(linkMessage(50, 300).subarray(1));
  });

  it('leaves pings, fragments and the close handshake to ws, keeping message order', async () => {
    const { peer, received, closedInfo } = await linkServer();
    const bytes = Buffer.concat([
      wsFrame(2, linkMessage(1)),
      wsFrame(9, Buffer.from('hi')),
      wsFrame(2, linkMessage(2)),
      // One message in two fragments, with a ping between them.
      wsFrame(2, linkMessage(3, 12).subarray(0, 6), { fin: false }),
      wsFrame(9, Buffer.from('yo')),
      wsFrame(0, linkMessage(3, 12).subarray(6)),
      wsFrame(2, linkMessage(4)),
    ]);
    await peer.write(bytes);
    await until(() => received.length === 4);
    expect(received.map((f) => f.readUInt32BE(0))).toEqual([1, 2, 3, 4]);
    expect(received[2]).toEqual(linkMessage(3, 12).subarray(1));
    await until(() => peer.frames.filter((f) => f.opcode === 0xa).length === 2);
    expect(peer.frames.filter((f) => f.opcode === 0xa).map((f) => f.payload.toString())).toEqual([
      'hi',
      'yo',
    ]);
    // After all that, the fast path takes whole frames again.
    await peer.write(wsFrame(2, linkMessage(5)));
    await until(() => received.length === 5);
    const close = Buffer.alloc(2);
    close.writeUInt16BE(1000);
    await peer.write(wsFrame(8, close));
    await until(() => closedInfo() !== null);
    expect(closedInfo()).toMatchObject({ code: 'normal', local: false });
  });

  it.each([
    ['an unmasked frame', wsFrame(2, linkMessage(1), { masked: false }), 'frame_malformed'],
    ['a text frame', wsFrame(1, Buffer.from('hello')), 'frame_malformed'],
    ['a frame with an RSV bit', wsFrame(2, linkMessage(1), { rsv: 4 }), 'frame_malformed'],
    ['an unknown opcode', wsFrame(3, linkMessage(1)), 'frame_malformed'],
    ['a frame over maxFrameBytes', wsFrame(2, linkMessage(1, 2_000)), 'frame_too_large'],
    ['an empty netloom frame', wsFrame(2, Buffer.from([0x01])), 'frame_malformed'],
  ])('refuses %s after good frames in the same chunk', async (_name, bad, code) => {
    const { peer, received, closedInfo } = await linkServer({ maxFrameBytes: 1_024 });
    await peer.write(Buffer.concat([wsFrame(2, linkMessage(1)), wsFrame(2, linkMessage(2)), bad]));
    await until(() => closedInfo() !== null);
    expect(received.map((f) => f.readUInt32BE(0))).toEqual([1, 2]);
    expect(closedInfo()).toMatchObject({ code, local: false });
  });

  it('takes a 64-bit length form through ws', async () => {
    const { peer, received } = await linkServer();
    await peer.write(Buffer.concat([wsFrame(2, linkMessage(1), { long: true }), wsFrame(2, linkMessage(2))]));
    await until(() => received.length === 2);
    expect(received.map((f) => f.readUInt32BE(0))).toEqual([1, 2]);
  });

  it('delivers the same messages as ws for random framing and random TCP chunking (fuzz)', async () => {
    const random = mulberry32(7);
    for (let round = 0; round < 30; round++) {
      const { peer, received, closedInfo } = await linkServer();
      const expected: number[] = [];
      const parts: Buffer[] = [];
      let pings = 0;
      for (let i = 0; i < 40; i++) {
        const kind = random();
        const size = random() < 0.2 ? 126 + Math.floor(random() * 400) : 5 + Math.floor(random() * 40);
        const message = linkMessage(round * 1000 + i, size);
        expected.push(round * 1000 + i);
        if (kind < 0.15) {
          const cut = 1 + Math.floor(random() * (message.length - 1));
          parts.push(wsFrame(2, message.subarray(0, cut), { fin: false }), wsFrame(0, message.subarray(cut)));
        } else {
          parts.push(wsFrame(2, message, { long: kind > 0.95 }));
        }
        if (random() < 0.1) {
          pings++;
          parts.push(wsFrame(9, Buffer.from([i])));
        }
      }
      const bytes = Buffer.concat(parts);
      const cuts = Array.from({ length: Math.floor(random() * 20) }, () =>
        Math.floor(random() * bytes.length),
      );
      await writeInChunks(peer, bytes, cuts);
      await until(() => received.length === expected.length && peer.frames.length === pings);
      expect(received.map((f) => f.readUInt32BE(0))).toEqual(expected);
      expect(closedInfo()).toBeNull();
      for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    }
  });

  it('reads on after the socket was paused and resumed, through a large message, and sees the peer end', async () => {
    const { peer, tcp, received, closedInfo } = await linkServer({ maxFrameBytes: 1_000_000 });
    // A 600 kB message in two fragments goes to ws's Receiver in many chunks; whole frames follow in the
    // same write.
    const big = linkMessage(2, 600_000);
    await peer.write(
      Buffer.concat([
        wsFrame(2, linkMessage(1)),
        wsFrame(2, big.subarray(0, 300_000), { fin: false, long: true }),
        wsFrame(0, big.subarray(300_000), { long: true }),
        ...Array.from({ length: 20 }, (_, i) => wsFrame(2, linkMessage(3 + i))),
      ]),
    );
    await until(() => received.length === 22);
    expect(received.map((f) => f.readUInt32BE(0))).toEqual(Array.from({ length: 22 }, (_, i) => 1 + i));
    expect(received[1]).toEqual(big.subarray(1));
    // Paused (as ws does when its Receiver pushes back), the socket delivers nothing, and with more
    // buffered than the stream's high-water mark it stops reading from the kernel; resumed, it reads on.
    tcp.pause();
    const paused = Array.from({ length: 300 }, (_, i) => wsFrame(2, linkMessage(100 + i, 1_000)));
    void peer.write(Buffer.concat(paused));
    // The socket's handle stopped reading (the case where only resume() starts it again).
    await until(() => (tcp as unknown as { _handle: { reading: boolean } })._handle.reading === false);
    await new Promise((r) => setTimeout(r, 50));
    expect(received).toHaveLength(22);
    tcp.resume();
    await until(() => received.length === 322);
    expect(received.slice(22).map((f) => f.readUInt32BE(0))).toEqual(
      Array.from({ length: 300 }, (_, i) => 100 + i),
    );
    for (let i = 0; i < 5; i++) await peer.write(wsFrame(2, linkMessage(1000 + i)));
    await until(() => received.length === 327);
    peer.tcp.end();
    await until(() => closedInfo() !== null);
    expect(closedInfo()).toMatchObject({ local: false });
  });

  it('can be turned off (fastReader: false), with the same results', async () => {
    const { peer, received } = await linkServer({ fastReader: false });
    await peer.write(Buffer.concat([wsFrame(2, linkMessage(1)), wsFrame(2, linkMessage(2))]));
    await until(() => received.length === 2);
    expect(received.map((f) => f.readUInt32BE(0))).toEqual([1, 2]);
  });
});
