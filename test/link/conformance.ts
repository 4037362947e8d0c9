// The Link conformance suite: the behaviour every transport's Link must show, run by each transport's tests.
import { describe, expect, it } from 'vitest';
import type { Channel, Link, LinkCloseInfo } from '../../src/link/link.js';

/**
 * The contract checked here, beyond link.ts:
 * - Empty frames are not allowed: `send` of a 0-byte frame returns false and counts nothing. (The
 *   session never sends one, and not every transport can carry one: WebRTC and WebTransport differ.)
 * - A peer's close arrives with `local: false`; an error close (any code but `normal`) arrives as
 *   `link_closed`, an orderly one as `normal` or, where the transport cannot tell, `link_closed`.
 * - Senders respect `bufferedBytes` (the suite paces itself on it); a link may close with
 *   `slow_consumer` when a reliable burst exceeds its buffer limit.
 */
export interface LinkPair {
  client: Link;
  server: Link;
  cleanup(): Promise<void>;
}

export interface LinkConformanceOptions {
  /** Largest reliable frame the transport promises to carry. Default 65,536. */
  maxReliableFrameBytes?: number;
  /** Largest unreliable frame the transport promises to carry. Default 1,024 (fits a WebTransport datagram). */
  maxUnreliableFrameBytes?: number;
  /** Reliable frames per direction in the ordering test. Default 10,000. */
  reliableCount?: number;
}

const BULK_TIMEOUT_MS = 120_000;
/** Safety net for waits, so a broken link fails with a message instead of a test timeout. */
const WAIT_MS = 15_000;
const PACE_BYTES = 256 * 1024;

/** Deterministic content of frame `index` with `size` bytes; unreliable frames (size >= 4) lead with the index. */
export function makeFrame(index: number, size: number): Uint8Array {
  const frame = new Uint8Array(size);
  for (let j = 0; j < size; j++) frame[j] = (index * 131 + j * 7 + size) & 0xff;
  if (size >= 4) new DataView(frame.buffer).setUint32(0, index, true);
  return frame;
}

function frameIndex(frame: Uint8Array): number {
  return new DataView(frame.buffer, frame.byteOffset, frame.byteLength).getUint32(0, true);
}

export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Sizes 1..8,192 bytes, spread so that small and large frames interleave. */
function bulkSize(index: number): number {
  return index % 10 === 0 ? 1 + ((index * 7919) % 8192) : 1 + ((index * 131) % 512);
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Watches one link: keeps copies of frames (unless told not to), closes, and frames after close. */
export class Probe {
  readonly frames: Record<Channel, Uint8Array[]> = { reliable: [], unreliable: [] };
  readonly closes: LinkCloseInfo[] = [];
  framesAfterClose = 0;
  private readonly waiters = new Set<() => void>();

  constructor(
    readonly link: Link,
    private readonly keep = true,
    private readonly tap?: (frame: Uint8Array, channel: Channel) => void,
  ) {
    link.onframe = (frame, channel) => {
      if (this.closes.length > 0) this.framesAfterClose++;
      if (this.keep) this.frames[channel].push(new Uint8Array(frame));
      this.tap?.(frame, channel);
      this.notify();
    };
    link.onclose = (info) => {
      this.closes.push(info);
      this.notify();
    };
  }

  /** Resolves when `condition` holds after some frame or close; rejects after `ms` naming `what`. */
  wait(condition: () => boolean, what: string, ms = WAIT_MS): Promise<void> {
    if (condition()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const check = () => {
        if (!condition()) return;
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve();
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`timed out waiting for ${what}`));
      }, ms);
      this.waiters.add(check);
    });
  }

  private notify(): void {
    for (const check of [...this.waiters]) check();
  }
}

/** Sends `count` frames, yielding while the link's buffer is above PACE_BYTES. */
async function sendPaced(link: Link, channel: Channel, count: number, make: (i: number) => Uint8Array) {
  for (let i = 0; i < count; i++) {
    while (link.bufferedBytes > PACE_BYTES) await delay(1);
    if (!link.send(channel, make(i))) throw new Error(`${channel} send ${i} refused`);
  }
}

/** Sends unreliable frames (a fresh index each try) until one reaches `probe`. */
async function sendUnreliableUntilArrival(from: Link, probe: Probe, size: number, firstIndex = 0) {
  for (let attempt = 0; attempt < 100; attempt++) {
    from.send('unreliable', makeFrame(firstIndex + attempt, size));
    try {
      await probe.wait(() => probe.frames.unreliable.length > 0, 'an unreliable frame', 50);
      return;
    } catch {
      // lost or still in flight: send another
    }
  }
  throw new Error('no unreliable frame arrived after 100 tries');
}

/** Runs the Link contract against pairs from `makePair` (a fresh pair per test). */
export function describeLinkConformance(
  name: string,
  makePair: () => Promise<LinkPair>,
  options: LinkConformanceOptions = {},
): void {
  const maxReliable = options.maxReliableFrameBytes ?? 65_536;
  const maxUnreliable = options.maxUnreliableFrameBytes ?? 1_024;
  const reliableCount = options.reliableCount ?? 10_000;

  async function withPair(run: (pair: LinkPair) => Promise<void>): Promise<void> {
    const pair = await makePair();
    try {
      await run(pair);
    } finally {
      await pair.cleanup();
    }
  }

  describe(`Link conformance: ${name}`, () => {
    it('is open on both sides when handed over, and refuses empty frames', () =>
      withPair(async ({ client, server }) => {
        for (const link of [client, server]) {
          expect(link.isOpen).toBe(true);
          expect(link.send('reliable', new Uint8Array(0))).toBe(false);
          expect(link.send('unreliable', new Uint8Array(0))).toBe(false);
          const stats = link.stats();
          expect(stats.framesOut).toEqual({ reliable: 0, unreliable: 0 });
          expect(stats.bytesOut).toEqual({ reliable: 0, unreliable: 0 });
        }
      }));

    it('delivers frames intact in both directions on both channels', () =>
      withPair(async ({ client, server }) => {
        const sizes = [1, 2, 3, 100, 1_000, 4_096, 8_192];
        const atClient = new Probe(client);
        const atServer = new Probe(server);
        for (const [from, to] of [
          [client, atServer],
          [server, atClient],
        ] as const) {
          const sent = sizes.map((size, i) => makeFrame(i, size));
          for (const frame of sent) expect(from.send('reliable', frame)).toBe(true);
          await to.wait(() => to.frames.reliable.length === sent.length, 'reliable frames');
          expect(to.frames.reliable.filter((frame, i) => !sameBytes(frame, sent[i]))).toEqual([]);

          await sendUnreliableUntilArrival(from, to, 64);
          for (const frame of to.frames.unreliable) {
            expect(sameBytes(frame, makeFrame(frameIndex(frame), 64))).toBe(true);
          }
        }
      }));

    it(
      `delivers ${reliableCount} reliable frames of 1..8192 bytes in order with none missing, both ways at once`,
      () =>
        withPair(async ({ client, server }) => {
          const verify = (side: string) => {
            const state = { next: 0, error: '' };
            const tap = (frame: Uint8Array, channel: Channel) => {
              if (channel !== 'reliable' || state.error) return;
              const i = state.next++;
              if (!sameBytes(frame, makeFrame(i, bulkSize(i)))) state.error = `${side}: frame ${i} differs`;
            };
            return { state, tap };
          };
          const toServer = verify('client->server');
          const toClient = verify('server->client');
          const atServer = new Probe(server, false, toServer.tap);
          const atClient = new Probe(client, false, toClient.tap);
          const make = (i: number) => makeFrame(i, bulkSize(i));
          await Promise.all([
            sendPaced(client, 'reliable', reliableCount, make),
            sendPaced(server, 'reliable', reliableCount, make),
            atServer.wait(
              () => toServer.state.next >= reliableCount || atServer.closes.length > 0,
              'bulk',
              90_000,
            ),
            atClient.wait(
              () => toClient.state.next >= reliableCount || atClient.closes.length > 0,
              'bulk',
              90_000,
            ),
          ]);
          expect(toServer.state.error).toBe('');
          expect(toClient.state.error).toBe('');
          expect(atServer.closes).toEqual([]);
          expect(atClient.closes).toEqual([]);
          expect(toServer.state.next).toBe(reliableCount);
          expect(toClient.state.next).toBe(reliableCount);
          expect(server.stats().framesIn.reliable).toBe(reliableCount);
          expect(client.stats().framesIn.reliable).toBe(reliableCount);
        }),
      BULK_TIMEOUT_MS,
    );

    it('keeps the reliable channel complete and ordered while unreliable traffic floods', () =>
      withPair(async ({ client, server }) => {
        const atServer = new Probe(server);
        const rounds = 200;
        for (let i = 0; i < rounds; i++) {
          while (client.bufferedBytes > PACE_BYTES) await delay(1);
          for (let k = 0; k < 10; k++) client.send('unreliable', makeFrame(i * 10 + k, 1_000));
          expect(client.send('reliable', makeFrame(i, 200))).toBe(true);
        }
        await atServer.wait(() => atServer.frames.reliable.length === rounds, 'all reliable frames');
        const damaged = atServer.frames.reliable.filter((frame, i) => !sameBytes(frame, makeFrame(i, 200)));
        expect(damaged).toEqual([]);
        for (const frame of atServer.frames.unreliable) {
          expect(sameBytes(frame, makeFrame(frameIndex(frame), 1_000))).toBe(true);
        }
        expect(atServer.closes).toEqual([]);
      }));

    it('counts frames and bytes per channel on both sides', () =>
      withPair(async ({ client, server }) => {
        const atClient = new Probe(client);
        const atServer = new Probe(server);
        const unreliableAccepted = { client: { frames: 0, bytes: 0 }, server: { frames: 0, bytes: 0 } };
        const sendSet = (
          link: Link,
          side: 'client' | 'server',
          reliableSizes: number[],
          unreliableSizes: number[],
        ) => {
          for (const [i, size] of reliableSizes.entries())
            expect(link.send('reliable', makeFrame(i, size))).toBe(true);
          unreliableSizes.forEach((size, i) => {
            if (!link.send('unreliable', makeFrame(i, size))) return;
            unreliableAccepted[side].frames++;
            unreliableAccepted[side].bytes += size;
          });
        };
        sendSet(client, 'client', [10, 20, 30, 40, 50], [100, 200, 300]);
        sendSet(server, 'server', [1, 2, 3, 4], [400, 500]);
        await atServer.wait(() => atServer.frames.reliable.length === 5, 'reliable frames at server');
        await atClient.wait(() => atClient.frames.reliable.length === 4, 'reliable frames at client');
        const c = client.stats();
        const s = server.stats();
        expect(c.framesOut).toEqual({ reliable: 5, unreliable: unreliableAccepted.client.frames });
        expect(c.bytesOut).toEqual({ reliable: 150, unreliable: unreliableAccepted.client.bytes });
        expect(s.framesOut).toEqual({ reliable: 4, unreliable: unreliableAccepted.server.frames });
        expect(s.bytesOut).toEqual({ reliable: 10, unreliable: unreliableAccepted.server.bytes });
        const sum = (frames: Uint8Array[]) => frames.reduce((n, f) => n + f.byteLength, 0);
        for (const [stats, probe] of [
          [s, atServer],
          [c, atClient],
        ] as const) {
          expect(stats.framesIn.reliable).toBe(probe.frames.reliable.length);
          expect(stats.bytesIn.reliable).toBe(sum(probe.frames.reliable));
          expect(stats.framesIn.unreliable).toBe(probe.frames.unreliable.length);
          expect(stats.bytesIn.unreliable).toBe(sum(probe.frames.unreliable));
        }
      }));

    it('carries frames as large as the transport promises', () =>
      withPair(async ({ client, server }) => {
        const atClient = new Probe(client);
        const atServer = new Probe(server);
        const big = makeFrame(7, maxReliable);
        expect(client.send('reliable', big)).toBe(true);
        expect(server.send('reliable', big)).toBe(true);
        await atServer.wait(() => atServer.frames.reliable.length === 1, 'large frame at server');
        await atClient.wait(() => atClient.frames.reliable.length === 1, 'large frame at client');
        expect(sameBytes(atServer.frames.reliable[0], big)).toBe(true);
        expect(sameBytes(atClient.frames.reliable[0], big)).toBe(true);
        await sendUnreliableUntilArrival(client, atServer, maxUnreliable);
        await sendUnreliableUntilArrival(server, atClient, maxUnreliable);
        for (const frame of [...atServer.frames.unreliable, ...atClient.frames.unreliable]) {
          expect(sameBytes(frame, makeFrame(frameIndex(frame), maxUnreliable))).toBe(true);
        }
        expect(atServer.closes).toEqual([]);
        expect(atClient.closes).toEqual([]);
      }));

    for (const closer of ['client', 'server'] as const) {
      it(`closes from the ${closer}: onclose once per side with the right local flag, then silence`, () =>
        withPair(async (pair) => {
          const local = pair[closer];
          const remote = closer === 'client' ? pair.server : pair.client;
          const atLocal = new Probe(local);
          const atRemote = new Probe(remote);
          // Frames in flight towards the closing side must not surface after its close.
          for (let i = 0; i < 20; i++) remote.send('reliable', makeFrame(i, 100));
          local.close();
          local.close('kicked', 'second close is ignored');
          await atLocal.wait(() => atLocal.closes.length > 0, 'local onclose');
          await atRemote.wait(() => atRemote.closes.length > 0, 'remote onclose');
          expect(atLocal.closes).toEqual([{ code: 'normal', reason: '', local: true }]);
          expect(atRemote.closes).toHaveLength(1);
          expect(atRemote.closes[0].local).toBe(false);
          expect(['normal', 'link_closed']).toContain(atRemote.closes[0].code);
          for (const link of [local, remote]) {
            expect(link.isOpen).toBe(false);
            expect(link.send('reliable', makeFrame(0, 10))).toBe(false);
            expect(link.send('unreliable', makeFrame(0, 10))).toBe(false);
          }
          remote.close();
          await delay(30);
          expect(atLocal.closes).toHaveLength(1);
          expect(atRemote.closes).toHaveLength(1);
          expect(atLocal.framesAfterClose).toBe(0);
          expect(atRemote.framesAfterClose).toBe(0);
        }));
    }

    it('reports an error close to the peer as link_closed', () =>
      withPair(async ({ client, server }) => {
        const atClient = new Probe(client);
        const atServer = new Probe(server);
        server.close('kicked', 'bye');
        await atClient.wait(() => atClient.closes.length > 0, 'client onclose');
        expect(atServer.closes).toEqual([{ code: 'kicked', reason: 'bye', local: true }]);
        expect(atClient.closes).toHaveLength(1);
        expect(atClient.closes[0]).toMatchObject({ code: 'link_closed', local: false });
      }));
  });
}
