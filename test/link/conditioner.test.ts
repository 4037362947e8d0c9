// Link conditioner: the conformance suite through a conditioned pair, and deterministic effects under a ManualClock.
import { describe, expect, it } from 'vitest';
import { type ConditionerOptions, conditionLink, mulberry32 } from '../../src/link/conditioner.js';
import { ManualClock } from '../../src/shared/clock.js';
import { describeLinkConformance, makeFrame, Probe, sameBytes } from './conformance.js';
import { createMemoryLinkPair } from './memory-pair.js';

describeLinkConformance('memory pair', async () => {
  const { client, server } = createMemoryLinkPair();
  return {
    client,
    server,
    cleanup: async () => {
      client.close();
      server.close();
    },
  };
});

describeLinkConformance(
  'conditioned memory pair (latency, jitter, loss, duplication, reordering)',
  async () => {
    const inner = createMemoryLinkPair();
    const options: ConditionerOptions = {
      latencyMs: 2,
      jitterMs: 2,
      loss: 0.2,
      duplicate: 0.1,
      reorder: 0.1,
    };
    const client = conditionLink(inner.client, { ...options, seed: 1 });
    const server = conditionLink(inner.server, { ...options, seed: 2 });
    return {
      client,
      server,
      cleanup: async () => {
        client.close();
        server.close();
      },
    };
  },
);

/** Lets the memory pair's microtask deliveries run. */
const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

function indexOf(frame: Uint8Array): number {
  return new DataView(frame.buffer, frame.byteOffset, 4).getUint32(0, true);
}

/** A memory pair whose client side is conditioned with `options` under a manual clock. */
function conditionedPair(options: ConditionerOptions) {
  const clock = new ManualClock();
  const inner = createMemoryLinkPair();
  const client = conditionLink(inner.client, options, clock);
  const atServer = new Probe(inner.server);
  const atClient = new Probe(client);
  const advance = async (ms: number) => {
    clock.advance(ms);
    await flush();
  };
  return { clock, inner, client, atServer, atClient, advance };
}

describe('link conditioner', () => {
  it('delays sent frames by the latency, and keeps reliable frames in order despite jitter', async () => {
    const { client, atServer, advance } = conditionedPair({ latencyMs: 50, direction: 'send' });
    client.send('reliable', makeFrame(0, 10));
    await advance(49);
    expect(atServer.frames.reliable).toHaveLength(0);
    expect(client.bufferedBytes).toBe(10);
    await advance(1);
    expect(atServer.frames.reliable).toHaveLength(1);
    expect(client.bufferedBytes).toBe(0);

    const jittery = conditionedPair({ latencyMs: 50, jitterMs: 40, seed: 7 });
    const arrivals: number[] = [];
    for (let i = 0; i < 200; i++) {
      jittery.client.send('reliable', makeFrame(i, 8));
      await jittery.advance(1);
      arrivals.push(jittery.atServer.frames.reliable.length);
    }
    await jittery.advance(100);
    expect(jittery.atServer.frames.reliable.map(indexOf)).toEqual([...Array(200).keys()]);
    // Nothing arrives before the minimum delay of 10 ms.
    expect(arrivals.slice(0, 9).every((n) => n === 0)).toBe(true);
  });

  it('delays received frames when conditioning the receive direction, and closes after them', async () => {
    const clock = new ManualClock();
    const inner = createMemoryLinkPair();
    const server = conditionLink(inner.server, { latencyMs: 30, direction: 'receive' }, clock);
    const atServer = new Probe(server);
    for (let i = 0; i < 3; i++) inner.client.send('reliable', makeFrame(i, 16));
    inner.client.close();
    await flush();
    expect(atServer.frames.reliable).toHaveLength(0);
    expect(atServer.closes).toHaveLength(0);
    expect(server.isOpen).toBe(true);
    clock.advance(29);
    expect(atServer.frames.reliable).toHaveLength(0);
    clock.advance(1);
    expect(atServer.frames.reliable.map(indexOf)).toEqual([0, 1, 2]);
    expect(atServer.closes).toEqual([{ code: 'normal', reason: '', local: false }]);
    expect(server.isOpen).toBe(false);
  });

  it('loses unreliable frames at the configured rate, the same ones for the same seed', async () => {
    const runs = [];
    for (let run = 0; run < 2; run++) {
      const { client, atServer } = conditionedPair({ loss: 0.25, seed: 42 });
      let refused = 0;
      for (let i = 0; i < 10_000; i++) if (!client.send('unreliable', makeFrame(i, 8))) refused++;
      expect(refused).toBe(0);
      await flush();
      const arrived = atServer.frames.unreliable.map(indexOf);
      expect(arrived.length / 10_000).toBeGreaterThan(0.73);
      expect(arrived.length / 10_000).toBeLessThan(0.77);
      expect(client.conditionerStats().lost).toBe(10_000 - arrived.length);
      expect(client.stats().framesOut.unreliable).toBe(10_000);
      runs.push(arrived);
    }
    expect(runs[1]).toEqual(runs[0]);
  });

  it('duplicates unreliable frames intact', async () => {
    const { client, atServer } = conditionedPair({ duplicate: 0.3, seed: 3 });
    for (let i = 0; i < 10_000; i++) client.send('unreliable', makeFrame(i, 32));
    await flush();
    const { duplicated } = client.conditionerStats();
    expect(duplicated / 10_000).toBeGreaterThan(0.28);
    expect(duplicated / 10_000).toBeLessThan(0.32);
    expect(atServer.frames.unreliable).toHaveLength(10_000 + duplicated);
    const damaged = atServer.frames.unreliable.filter((f) => !sameBytes(f, makeFrame(indexOf(f), 32)));
    expect(damaged).toHaveLength(0);
  });

  it('reorders unreliable frames but never reliable ones', async () => {
    const { client, atServer, advance } = conditionedPair({
      latencyMs: 10,
      reorder: 0.2,
      reorderDelayMs: 30,
      loss: 0.1,
      duplicate: 0.1,
      seed: 9,
    });
    for (let i = 0; i < 1_000; i++) {
      client.send('unreliable', makeFrame(i, 8));
      client.send('reliable', makeFrame(i, 8));
      await advance(1);
    }
    await advance(100);
    const unreliable = atServer.frames.unreliable.map(indexOf);
    let inversions = 0;
    for (let i = 1; i < unreliable.length; i++) if (unreliable[i] < unreliable[i - 1]) inversions++;
    expect(client.conditionerStats().reordered).toBeGreaterThan(150);
    expect(inversions).toBeGreaterThan(100);
    expect(atServer.frames.reliable.map(indexOf)).toEqual([...Array(1_000).keys()]);
  });

  it('copies the frames it holds back', async () => {
    const { client, atServer, advance } = conditionedPair({ latencyMs: 5 });
    const frame = makeFrame(1, 64);
    client.send('reliable', frame);
    client.send('unreliable', frame);
    frame.fill(0);
    await advance(5);
    expect(atServer.frames.reliable[0]).toEqual(makeFrame(1, 64));
    expect(atServer.frames.unreliable[0]).toEqual(makeFrame(1, 64));
  });

  it('close() still delivers the reliable frames already accepted, then closes the peer', async () => {
    const { client, atServer, atClient } = conditionedPair({ latencyMs: 100 });
    for (let i = 0; i < 3; i++) client.send('reliable', makeFrame(i, 8));
    client.send('unreliable', makeFrame(9, 8));
    client.close('kicked', 'bye');
    expect(atClient.closes).toEqual([{ code: 'kicked', reason: 'bye', local: true }]);
    await flush();
    expect(atServer.frames.reliable.map(indexOf)).toEqual([0, 1, 2]);
    expect(atServer.frames.unreliable).toHaveLength(0);
    expect(atServer.closes).toEqual([{ code: 'link_closed', reason: 'bye', local: false }]);
  });

  it('kill() ends the link as a network failure would', async () => {
    const { client, atServer, atClient, advance } = conditionedPair({ latencyMs: 20 });
    client.send('reliable', makeFrame(0, 8));
    client.kill('cable cut');
    client.kill('again');
    expect(atClient.closes).toEqual([{ code: 'link_closed', reason: 'cable cut', local: false }]);
    expect(client.isOpen).toBe(false);
    expect(client.send('reliable', makeFrame(1, 8))).toBe(false);
    expect(client.send('unreliable', makeFrame(1, 8))).toBe(false);
    expect(client.stats().droppedOut).toBe(1);
    await advance(50);
    expect(atServer.frames.reliable).toHaveLength(0);
    expect(atServer.closes).toEqual([expect.objectContaining({ code: 'link_closed', local: false })]);
    client.close();
    expect(atClient.closes).toHaveLength(1);
  });

  it('passes frames straight through with no conditions', async () => {
    const { client, atServer } = conditionedPair({});
    expect(client.send('reliable', makeFrame(0, 8))).toBe(true);
    expect(client.send('unreliable', makeFrame(1, 8))).toBe(true);
    await flush();
    expect(atServer.frames.reliable).toHaveLength(1);
    expect(atServer.frames.unreliable).toHaveLength(1);
    expect(client.bufferedBytes).toBe(0);
  });

  it('mulberry32 is deterministic per seed and stays in [0, 1)', () => {
    const a = mulberry32(5);
    const b = mulberry32(5);
    const c = mulberry32(6);
    const xs = Array.from({ length: 1_000 }, () => a());
    expect(Array.from({ length: 1_000 }, () => b())).toEqual(xs);
    expect(Array.from({ length: 1_000 }, () => c())).not.toEqual(xs);
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
  });
});
