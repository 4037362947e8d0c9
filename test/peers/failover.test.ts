// A direct link dies mid-stream: the pair falls back to the relay, and every reliable message arrives exactly once, in order.
import { afterEach, describe, expect, it } from 'vitest';
import { type Client, type ConditionedLink, conditionLink } from '../../src/client/index.js';
import { until } from '../helpers/netloom.js';
import {
  allOn,
  joinPeers,
  mute,
  type PeerRoom,
  type PeerServer,
  startPeerServer,
  type TrackedRtc,
} from './harness.js';

let server: PeerServer | null = null;
let clients: Client[] = [];

afterEach(async () => {
  for (const c of clients) c.close();
  clients = [];
  await server?.close();
  server = null;
});

const TOTAL = 4_000;

/** Streams TOTAL numbered reliable messages from `a` to `b`, calling `kill` a quarter of the way in. */
async function streamThrough(a: PeerRoom, b: PeerRoom, kill: () => void): Promise<number[]> {
  const got: number[] = [];
  b.peers.on('seq', (msg) => got.push(msg.n));
  let sent = 0;
  let killed = false;
  while (sent < TOTAL) {
    for (let i = 0; i < 50 && sent < TOTAL; i++) a.peers.send(b.clientId, 'seq', { n: ++sent });
    if (!killed && sent >= TOTAL / 4 && got.length > 0) {
      killed = true;
      kill();
    }
    await new Promise((r) => setTimeout(r, 5));
  }
  await until(() => got.length >= TOTAL, 15_000, 'every message');
  return got;
}

describe('relay takeover', () => {
  it('loses no reliable message when the direct link is killed mid-stream', async () => {
    server = await startPeerServer({ ratePerSecond: 0 });
    const joined = await joinPeers(server.url, 2);
    clients = joined.clients;
    const [a, b] = joined.rooms;
    await allOn(joined.rooms, 'direct');

    const paths: string[] = [];
    a.peers.on('peer-link', (e) => paths.push(`a:${e.path}`));
    b.peers.on('peer-link', (e) => paths.push(`b:${e.path}`));
    let killed = false;
    const got = await streamThrough(a, b, () => {
      killed = true;
      for (const pc of joined.rtcs[0].made) pc.close(); // a's side of the direct link dies at once
    });
    expect(killed).toBe(true);
    expect(got).toEqual(Array.from({ length: TOTAL }, (_, i) => i + 1));
    expect(paths).toContain('a:relay');
    expect(paths).toContain('b:relay');
    // The relay carried part of the stream.
    expect(server.app.netloom.metrics().peer_relay_bytes).toBeGreaterThan(1_000);
  }, 40_000);

  it('notices a link that silently stops carrying frames (ping and idle timeout) and loses nothing', async () => {
    server = await startPeerServer({ pingIntervalMs: 100, idleTimeoutMs: 500, ratePerSecond: 0 });
    const joined = await joinPeers(server.url, 2);
    clients = joined.clients;
    const [a, b] = joined.rooms;
    await allOn(joined.rooms, 'direct');
    const paths: string[] = [];
    a.peers.on('peer-link', (e) => paths.push(`a:${e.path}`));
    b.peers.on('peer-link', (e) => paths.push(`b:${e.path}`));
    const got = await streamThrough(a, b, () => {
      for (const rtc of joined.rtcs as TrackedRtc[]) mute(rtc); // both ways: nothing arrives, nothing closes
    });
    expect(got).toEqual(Array.from({ length: TOTAL }, (_, i) => i + 1));
    expect(paths).toContain('a:relay');
    expect(paths).toContain('b:relay');
  }, 40_000);

  it("keeps relayed reliable messages through both members' server sessions resuming", async () => {
    server = await startPeerServer({ maxMesh: 0, ratePerSecond: 0 });
    const links: ConditionedLink[][] = [[], []];
    const joined = await joinPeers(server.url, 2, {
      client: (i) => ({
        reconnect: { baseDelayMs: 20, maxDelayMs: 100 },
        wrapLink: (link) => {
          const conditioned = conditionLink(link, { seed: i + 1 });
          links[i].push(conditioned);
          return conditioned;
        },
      }),
    });
    clients = joined.clients;
    const [a, b] = joined.rooms;
    let resumed = 0;
    for (const r of joined.rooms) r.on('reconnected', () => resumed++);
    const got = await streamThrough(a, b, () => {
      links[0][links[0].length - 1].kill('test kills the link');
      links[1][links[1].length - 1].kill('test kills the link');
    });
    expect(got).toEqual(Array.from({ length: TOTAL }, (_, i) => i + 1));
    expect(resumed).toBe(2);
  }, 40_000);
});
