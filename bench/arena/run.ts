// Arena benchmark runner (ARENA.md): per system, spawns the server and the load generator pinned to
// separate cores, samples /proc over the measured window, prints one JSON line per system.
// Env: C P SECONDS WARMUP GRACE SEED TRANSPORT, SYSTEMS (default raw-ws,netloom), REPEAT (rounds, alternating
// systems, then a summary line of medians), BUSY_RETRIES (re-runs of a run with other_cpu > 0.3); CPU_PROF=<dir>: profile
// the server over the window (see profile.ts); CPU_PROF_LOADGEN=<dir>: run the load generator under --cpu-prof;
// NATIVE_CALLS=1: the netloom server times its calls into the quiche binding over the window (native-calls.ts).
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { canPin, JsonProc, killChildren } from '../procs.js';
import { JOIN_TIMEOUT_MS, joinPhaseMs } from './bench-client.js';
import { type CpuSample, processRssMib, sampleCpu } from './proc.js';
import { type ArenaParams, readParams } from './workload.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const SERVERS: Record<string, string> = {
  'raw-ws': resolve(HERE, 'raw-ws-server.ts'),
  netloom: resolve(HERE, 'netloom-server.ts'),
};

for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    killChildren();
    process.exit(130);
  });
}

const r3 = (v: number) => Number(v.toFixed(3));

/**
 * node --cpu-prof arguments when env `name` names a directory, else none. Profiles land in
 * `<dir>/<sub>/` under node's default names: one per thread (tsx's loader thread writes a small one).
 */
function profileArgs(name: string, sub: string): string[] {
  const dir = process.env[name];
  if (!dir) return [];
  const out = resolve(dir, sub);
  mkdirSync(out, { recursive: true });
  return ['--cpu-prof', '--cpu-prof-dir', out];
}

async function runSystem(system: string, params: ArenaParams): Promise<Record<string, unknown>> {
  const serverFile = SERVERS[system];
  if (!serverFile) throw new Error(`unknown system ${system}`);
  const profDir = process.env['CPU_PROF'];
  const profile = profDir
    ? resolve(profDir, `${system}-${params.TRANSPORT}-server-C${params.C}.cpuprofile`)
    : '';
  if (profDir) mkdirSync(profDir, { recursive: true });
  const server = JsonProc.start(
    serverFile,
    {
      C: String(params.C),
      P: String(params.P),
      TRANSPORT: params.TRANSPORT,
      STATE: params.STATE,
      ARENA_CPU_PROFILE: profile,
      ARENA_NATIVE_CALLS: process.env['NATIVE_CALLS'] ?? '',
    },
    0,
  );

  let loadgen: JsonProc | undefined;
  try {
    const ready = await server.next('server start', (m) => typeof m['port'] === 'number', 30_000);
    loadgen = JsonProc.start(
      resolve(HERE, 'loadgen.ts'),
      {
        SYSTEM: system,
        PORT: String(ready['port']),
        ROOM_IDS: Array.isArray(ready['rooms']) ? ready['rooms'].join(',') : '',
        C: String(params.C),
        P: String(params.P),
        TRANSPORT: params.TRANSPORT,
        STATE: params.STATE,
      },
      1,
      profileArgs('CPU_PROF_LOADGEN', `${system}-loadgen-C${params.C}`),
    );
    const joined = await loadgen.next(
      'joins',
      (m) => m['event'] === 'joined',
      joinPhaseMs(params.C) + JOIN_TIMEOUT_MS + 10_000,
    );
    if (joined['errors']) process.stderr.write(`[${system}] join errors: ${JSON.stringify(joined)}\n`);
    if (process.env['ARENA_VERBOSE'])
      process.stderr.write(`arena: ${system} joined ${new Date().toISOString()}\n`);
    await loadgen.next('warmup', (m) => m['event'] === 'window-start', params.WARMUP * 1000 + 10_000);
    // SIGUSR2 marks the window for the server's profiler and native-call timer (profile.ts, native-calls.ts).
    const marksWindow = profile !== '' || (system === 'netloom' && Boolean(process.env['NATIVE_CALLS']));
    if (marksWindow) process.kill(server.pid, 'SIGUSR2');
    const before: CpuSample = sampleCpu(server.pid, loadgen.pid);
    if (process.env['ARENA_VERBOSE'])
      process.stderr.write(`arena: ${system} window ${new Date().toISOString()}\n`);
    await loadgen.next('window', (m) => m['event'] === 'window-end', params.SECONDS * 1000 + 10_000);
    const after: CpuSample = sampleCpu(server.pid, loadgen.pid);
    if (process.env['ARENA_VERBOSE'])
      process.stderr.write(`arena: ${system} window end ${new Date().toISOString()}\n`);
    const rss = processRssMib(server.pid);
    if (marksWindow) process.kill(server.pid, 'SIGUSR2');
    if (profile) {
      await server.next('profile', (m) => m['event'] === 'profile', 30_000);
      process.stderr.write(`arena: ${system} server profile (window only): ${profile}\n`);
    }
    const result = await loadgen.next('grace', (m) => m['event'] === 'result', params.GRACE * 1000 + 10_000);
    const wall = (after.at - before.at) / 1000;
    const serverUser = (after.server.user - before.server.user) / wall;
    const serverKernel = (after.server.kernel - before.server.kernel) / wall;
    const loadgenCpu =
      (after.loadgen.user + after.loadgen.kernel - before.loadgen.user - before.loadgen.kernel) / wall;
    const machine = (after.machine - before.machine) / wall;
    return {
      system,
      transport: params.TRANSPORT,
      state: system === 'netloom' ? params.STATE : 'per-client',
      clients_connected: result['clients_connected'],
      rooms: result['rooms'],
      server_cpu: r3(serverUser + serverKernel),
      server_cpu_user: r3(serverUser),
      server_cpu_kernel: r3(serverKernel),
      server_rss_mib: Number(rss.toFixed(1)),
      lat_p50_ms: result['lat_p50_ms'],
      lat_p95_ms: result['lat_p95_ms'],
      lat_p99_ms: result['lat_p99_ms'],
      lat_max_ms: result['lat_max_ms'],
      lat_unacked: result['lat_unacked'],
      down_bytes_per_client_s: result['down_bytes_per_client_s'],
      up_bytes_per_client_s: result['up_bytes_per_client_s'],
      tick_fraction_mean: result['tick_fraction_mean'],
      tick_fraction_min: result['tick_fraction_min'],
      inputs_per_client_s: result['inputs_per_client_s'],
      loadgen_cpu: r3(loadgenCpu),
      loadgen_loop_lag_p99_ms: result['loadgen_loop_lag_p99_ms'],
      other_cpu: r3(Math.max(0, machine - serverUser - serverKernel - loadgenCpu)),
      C: params.C,
      P: params.P,
      SECONDS: params.SECONDS,
      SEED: params.SEED,
      date: new Date().toISOString(),
    };
  } finally {
    await loadgen?.stop(3_000);
    // The server exits through process.exit on SIGTERM, which lets --cpu-prof write its file.
    await server.stop(15_000);
    const stats = await server.next('stats', (m) => m['event'] === 'stats', 0).catch(() => null);
    if (stats) process.stderr.write(`arena: ${system} server stats: ${JSON.stringify(stats)}\n`);
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Above this `other_cpu` (cores used by anything else), a run counts as disturbed (ARENA.md: re-run). */
const MAX_OTHER_CPU = 0.3;

/** With REPEAT > 1: the median server CPU per system and netloom's ratio to the raw baseline. */
function summary(cpu: Map<string, number[]>, params: ArenaParams): Record<string, unknown> {
  const medians = Object.fromEntries([...cpu].map(([system, values]) => [system, median(values)]));
  const raw = medians['raw-ws'];
  const netloom = medians['netloom'];
  // Each round's ratio compares two runs a minute apart, so drift of the machine between rounds cancels.
  const rounds = (a: string, b: string): number[] | null => {
    const x = cpu.get(a);
    const y = cpu.get(b);
    if (!x || !y || x.length !== y.length || x.length === 0) return null;
    return x.map((v, i) => Math.round((v / y[i]) * 1000) / 1000);
  };
  const vsRaw = rounds('netloom', 'raw-ws');
  const wtVsWs = rounds('netloom-webtransport', 'netloom');
  return {
    summary: 'arena',
    C: params.C,
    rounds: Math.max(...[...cpu.values()].map((v) => v.length)),
    server_cpu_median: medians,
    server_cpu_all: Object.fromEntries(cpu),
    netloom_vs_raw_cpu: raw && netloom ? Math.round((netloom / raw) * 1000) / 1000 : null,
    netloom_webrtc_vs_websocket_cpu:
      netloom && medians['netloom-webrtc']
        ? Math.round((medians['netloom-webrtc'] / netloom) * 1000) / 1000
        : null,
    netloom_webtransport_vs_websocket_cpu:
      netloom && medians['netloom-webtransport']
        ? Math.round((medians['netloom-webtransport'] / netloom) * 1000) / 1000
        : null,
    netloom_vs_raw_cpu_rounds: vsRaw,
    netloom_vs_raw_cpu_round_median: vsRaw ? median(vsRaw) : null,
    netloom_webtransport_vs_websocket_cpu_rounds: wtVsWs,
    netloom_webtransport_vs_websocket_cpu_round_median: wtVsWs ? median(wtVsWs) : null,
  };
}

async function main(): Promise<void> {
  const params = readParams();
  const systems = (process.env['SYSTEMS'] ?? 'raw-ws,netloom')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (!canPin) process.stderr.write('arena: not pinning (taskset missing or fewer than 2 cores)\n');
  const repeat = Math.max(1, Number(process.env['REPEAT'] ?? 1) | 0);
  const busyRetries = Math.max(0, Number(process.env['BUSY_RETRIES'] ?? 0) | 0);
  let failed = false;
  const cpu = new Map<string, number[]>();
  // TRANSPORT may list several (`websocket,webrtc`): netloom runs over each, the raw baseline over WebSocket only.
  const transports = params.TRANSPORT.split(',')
    .map((t) => t.trim())
    .filter(Boolean);
  // Systems alternate within each round, so slow drift of the machine affects them alike.
  for (let round = 0; round < repeat; round++) {
    for (const transport of transports) {
      for (const system of systems) {
        if (system === 'raw-ws' && transport !== 'websocket') continue;
        try {
          let result = await runSystem(system, { ...params, TRANSPORT: transport });
          // BUSY_RETRIES: a run during which something else used the machine is shown, marked, and run again.
          for (let retry = 0; retry < busyRetries && Number(result['other_cpu']) > MAX_OTHER_CPU; retry++) {
            process.stdout.write(`${JSON.stringify({ ...result, round, discarded: 'other_cpu' })}\n`);
            result = await runSystem(system, { ...params, TRANSPORT: transport });
          }
          process.stdout.write(`${JSON.stringify({ ...result, round })}\n`);
          const key = transport === 'websocket' ? system : `${system}-${transport}`;
          const list = cpu.get(key) ?? [];
          list.push(Number(result['server_cpu']));
          cpu.set(key, list);
        } catch (err) {
          failed = true;
          process.stderr.write(`arena: ${system} over ${transport} failed: ${(err as Error).message}\n`);
        }
      }
    }
  }
  if (repeat > 1 || transports.length > 1) process.stdout.write(`${JSON.stringify(summary(cpu, params))}\n`);
  process.exitCode = failed ? 1 : 0;
}

await main();
