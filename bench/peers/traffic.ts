// The 20 Hz workload: every member broadcasts unreliable position updates to the others; counts bytes per path (direct datachannels vs the server's relay) and deliveries.
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { machineBusySeconds } from '../arena/proc.js';
import type { Member } from './members.js';
import { peersBenchProtocol } from './protocol.js';
import type { ServerProc } from './server-proc.js';

export interface TrafficParams {
  seconds: number;
  hz: number;
  warmupMs: number;
  graceMs: number;
}

export interface TrafficResult {
  /** Bytes of peer frames handed to datachannels (all members), per second. */
  direct_bytes_per_s: number;
  /** Bytes of peer frames the server relayed (`peer_relay_bytes`), per second. */
  relay_bytes_per_s: number;
  /** direct ÷ (direct + relay), in frame bytes. */
  direct_byte_share: number;
  /** Messages received while the sender was on a direct link ÷ all received. */
  direct_msg_share: number;
  /** Encoded `pos` payload bytes offered per second (one copy per recipient). */
  payload_bytes_per_s: number;
  /** Server bytes on its sessions (in + out, all members), per second. */
  server_session_bytes_per_s: number;
  /** Updates sent ÷ HZ × SECONDS × members (below 1 when the clients' event loop fell behind). */
  sent_fraction: number;
  delivered: number;
  expected: number;
  delivered_fraction: number;
  latency_direct_p50_ms: number | null;
  latency_direct_p99_ms: number | null;
  latency_relay_p50_ms: number | null;
  latency_relay_p99_ms: number | null;
  /** Server CPU-seconds per wall-second in the window (/proc/<pid>/stat of the server process). */
  server_cpu: number;
  /** This process (the 8 clients) CPU-seconds per wall-second. */
  clients_cpu: number;
  /** Event-loop delay of this process in the window, p99 (stalls of the clients delay sends and receipt alike). */
  clients_loop_lag_p99_ms: number;
  /** Cores busy with anything else on the machine (noise indicator). */
  other_cpu: number;
  peer_relay_refused: number;
  peer_relay_dropped: number;
}

const sumOf = (metrics: Record<string, number>, prefix: string): number =>
  Object.entries(metrics).reduce((s, [k, v]) => (k.startsWith(prefix) ? s + v : s), 0);

/** Nearest-rank percentile of an unsorted list (null when empty). */
export function pct(values: number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

export const r3 = (v: number | null): number | null => (v === null ? null : Number(v.toFixed(3)));

/** Runs the workload on `members` (already linked as the room allows) and measures SECONDS of it. */
export async function runTraffic(
  server: ServerProc,
  members: Member[],
  params: TrafficParams,
): Promise<TrafficResult> {
  const periodMs = 1000 / params.hz;
  const peers = members.length - 1;
  const sendTimes = new Map<string, number[]>(members.map((m) => [m.id, []]));
  const windowSeq = new Map<string, { from: number; to: number }>();
  const latency = { direct: [] as number[], relay: [] as number[] };
  let delivered = 0;
  let deliveredDirect = 0;
  let payloadBytes = 0;
  let measuring = false;

  for (const m of members) {
    m.room.peers.on('pos', (msg, from) => {
      const w = windowSeq.get(from);
      if (!w || msg.seq < w.from || msg.seq > w.to) return;
      const path = m.paths.get(from) ?? 'relay';
      delivered++;
      if (path === 'direct') deliveredDirect++;
      const sentAt = sendTimes.get(from)?.[msg.seq];
      if (sentAt !== undefined) latency[path].push(performance.now() - sentAt);
    });
  }

  // Each member sends on an absolute schedule, phases spread over one period.
  const timers: NodeJS.Timeout[] = [];
  const seqs = new Map<string, number>(members.map((m) => [m.id, 0]));
  const t0 = performance.now();
  members.forEach((m, i) => {
    const phase = (i * periodMs) / members.length;
    let n = 0;
    const tick = (): void => {
      const seq = (seqs.get(m.id) ?? 0) + 1;
      seqs.set(m.id, seq);
      const value = { x: (seq * 7) % 1000, y: (seq * 13) % 1000, seq };
      sendTimes.get(m.id)![seq] = performance.now();
      const reached = m.room.peers.broadcast('pos', value, { reliable: false });
      if (measuring) payloadBytes += peersBenchProtocol.peer.encode('pos', value).payload.length * reached;
      n++;
      const late = performance.now() - t0 - phase - n * periodMs;
      if (late > 5 * periodMs) n += Math.floor(late / periodMs); // backlog dropped
      timers[i] = setTimeout(tick, Math.max(0, t0 + phase + n * periodMs - performance.now()));
    };
    timers[i] = setTimeout(tick, phase);
  });

  await new Promise((r) => setTimeout(r, params.warmupMs));
  const lag = monitorEventLoopDelay({ resolution: 10 });
  const before = await snapshot(server, members);
  lag.enable();
  for (const m of members)
    windowSeq.set(m.id, { from: (seqs.get(m.id) ?? 0) + 1, to: Number.MAX_SAFE_INTEGER });
  measuring = true;
  await new Promise((r) => setTimeout(r, params.seconds * 1000));
  measuring = false;
  for (const m of members) windowSeq.get(m.id)!.to = seqs.get(m.id) ?? 0;
  const after = await snapshot(server, members);
  lag.disable();
  for (const t of timers) clearTimeout(t);
  await new Promise((r) => setTimeout(r, params.graceMs)); // the last updates of the window arrive

  const wall = (after.at - before.at) / 1000;
  let expected = 0;
  for (const w of windowSeq.values()) expected += (w.to - w.from + 1) * peers;
  const direct = after.direct - before.direct;
  const relay = after.metrics.peer_relay_bytes - before.metrics.peer_relay_bytes;
  const serverCpu = after.server - before.server;
  const clientsCpu = after.self - before.self;
  const delta = (key: string): number => (after.metrics[key] ?? 0) - (before.metrics[key] ?? 0);
  return {
    direct_bytes_per_s: Math.round(direct / wall),
    relay_bytes_per_s: Math.round(relay / wall),
    direct_byte_share: r3(direct + relay > 0 ? direct / (direct + relay) : 0)!,
    direct_msg_share: r3(delivered > 0 ? deliveredDirect / delivered : 0)!,
    payload_bytes_per_s: Math.round(payloadBytes / wall),
    server_session_bytes_per_s: Math.round(
      (sumOf(after.metrics, 'bytes_') - sumOf(before.metrics, 'bytes_')) / wall,
    ),
    sent_fraction: r3(expected / peers / (params.hz * params.seconds * members.length))!,
    delivered,
    expected,
    delivered_fraction: r3(expected > 0 ? delivered / expected : 0)!,
    latency_direct_p50_ms: r3(pct(latency.direct, 50)),
    latency_direct_p99_ms: r3(pct(latency.direct, 99)),
    latency_relay_p50_ms: r3(pct(latency.relay, 50)),
    latency_relay_p99_ms: r3(pct(latency.relay, 99)),
    server_cpu: r3(serverCpu / wall)!,
    clients_cpu: r3(clientsCpu / wall)!,
    clients_loop_lag_p99_ms: r3(lag.percentile(99) / 1e6)!,
    other_cpu: r3(Math.max(0, after.machine - before.machine - serverCpu - clientsCpu) / wall)!,
    peer_relay_refused: delta('peer_relay_refused'),
    peer_relay_dropped: delta('peer_relay_dropped'),
  };
}

interface Snapshot {
  at: number;
  metrics: Record<string, number>;
  direct: number;
  server: number;
  self: number;
  machine: number;
}

async function snapshot(server: ServerProc, members: Member[]): Promise<Snapshot> {
  const metrics = await server.metrics();
  const cpu = server.cpu();
  const self = process.cpuUsage();
  return {
    at: performance.now(),
    metrics: { ...metrics, peer_relay_bytes: metrics.peer_relay_bytes ?? 0 },
    direct: members.reduce((s, m) => s + m.direct.bytes, 0),
    server: cpu.user + cpu.kernel,
    self: (self.user + self.system) / 1e6,
    machine: machineBusySeconds(),
  };
}
