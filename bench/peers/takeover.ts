// Relay takeover: a reliable numbered stream flows A → B over a direct link; the link is killed and the relay must carry on within a second, losing nothing.
// Kill modes: `close` closes A's RTCPeerConnection (B hears it from werift); `silent` makes both sides' datachannels drop
// everything with no close and no error (a dead network): only pings and the idle timeout can notice.
import { performance } from 'node:perf_hooks';
import { type Member, until } from './members.js';
import { pct, r3 } from './traffic.js';

export type KillMode = 'close' | 'silent';

export interface TakeoverParams {
  mode: KillMode;
  kills: number;
  /** Messages per second of the reliable stream (below the relay's default 60 per pair). */
  streamHz: number;
  /** Stream time on a fresh direct link before it is killed. */
  settleMs: number;
}

export interface TakeoverResult {
  mode: KillMode;
  kills_done: number;
  /** Kill → `peer-link` relay on A (the side whose connection was closed). */
  a_relay_p50_ms: number | null;
  a_relay_max_ms: number | null;
  /** Kill → `peer-link` relay on B (the far side, which must notice). */
  b_relay_p50_ms: number | null;
  b_relay_max_ms: number | null;
  /** Kill → B receives the first message A sent after the kill (includes up to one stream period of waiting to send it). */
  first_after_kill_p50_ms: number | null;
  first_after_kill_max_ms: number | null;
  /** Kill → the pair is direct again on both sides (the offerer's retry, 1 s backoff first). */
  relink_p50_ms: number | null;
  sent: number;
  received: number;
  lost: number;
  duplicated: number;
  out_of_order: number;
  peer_errors: number;
}

/** Runs `kills` kill-and-recover cycles on the direct link between `a` and `b` (already direct). */
export async function runTakeover(a: Member, b: Member, params: TakeoverParams): Promise<TakeoverResult> {
  const events: Array<{ side: 'a' | 'b'; path: string; at: number }> = [];
  a.room.peers.on('peer-link', (e) => events.push({ side: 'a', path: e.path, at: performance.now() }));
  b.room.peers.on('peer-link', (e) => events.push({ side: 'b', path: e.path, at: performance.now() }));
  let peerErrors = 0;
  a.room.peers.on('peer-error', () => peerErrors++);
  b.room.peers.on('peer-error', () => peerErrors++);
  const got: Array<{ n: number; at: number }> = [];
  b.room.peers.on('num', (msg) => got.push({ n: msg.n, at: performance.now() }));

  let sent = 0;
  const stream = setInterval(() => a.room.peers.send(b.id, 'num', { n: ++sent }), 1000 / params.streamHz);
  const bothDirect = () => a.paths.get(b.id) === 'direct' && b.paths.get(a.id) === 'direct';
  const samples = { a: [] as number[], b: [] as number[], first: [] as number[], relink: [] as number[] };
  try {
    for (let k = 0; k < params.kills; k++) {
      await until(bothDirect, 30_000, 'the direct link (again)');
      await new Promise((r) => setTimeout(r, params.settleMs));
      const lastBefore = sent;
      const killedAt = performance.now();
      if (params.mode === 'close') {
        for (const pc of a.pcs) if (pc.connectionState !== 'closed') void pc.close();
      } else {
        for (const channel of [...a.channels, ...b.channels]) channel.muted = true; // links made later stay alive
      }
      const after = (side: 'a' | 'b', path: string) =>
        events.find((e) => e.side === side && e.path === path && e.at >= killedAt);
      await until(
        () => !!after('a', 'relay') && !!after('b', 'relay') && got.some((g) => g.n > lastBefore),
        10_000,
        'relay takeover on both sides',
      );
      samples.a.push(after('a', 'relay')!.at - killedAt);
      samples.b.push(after('b', 'relay')!.at - killedAt);
      samples.first.push(got.find((g) => g.n > lastBefore)!.at - killedAt);
      await until(bothDirect, 30_000, 'the direct link back');
      samples.relink.push(Math.max(after('a', 'direct')!.at, after('b', 'direct')!.at) - killedAt);
    }
  } finally {
    clearInterval(stream);
  }
  await until(() => got.length >= sent, 10_000, 'the rest of the stream').catch(() => {});
  const seen = new Set<number>();
  let duplicated = 0;
  let outOfOrder = 0;
  got.forEach((g, i) => {
    if (seen.has(g.n)) duplicated++;
    seen.add(g.n);
    if (i > 0 && g.n <= got[i - 1].n) outOfOrder++;
  });
  let lost = 0;
  for (let n = 1; n <= sent; n++) if (!seen.has(n)) lost++;
  const max = (v: number[]) => (v.length ? Math.max(...v) : null);
  return {
    mode: params.mode,
    kills_done: samples.a.length,
    a_relay_p50_ms: r3(pct(samples.a, 50)),
    a_relay_max_ms: r3(max(samples.a)),
    b_relay_p50_ms: r3(pct(samples.b, 50)),
    b_relay_max_ms: r3(max(samples.b)),
    first_after_kill_p50_ms: r3(pct(samples.first, 50)),
    first_after_kill_max_ms: r3(max(samples.first)),
    relink_p50_ms: r3(pct(samples.relink, 50)),
    sent,
    received: got.length,
    lost,
    duplicated,
    out_of_order: outOfOrder,
    peer_errors: peerErrors,
  };
}
