// Peer-assisted rooms benchmark (issue 7): join → all direct links, direct share of 20 Hz peer traffic, relay-only comparison, relay takeover; one JSON line.
// Env: PEERS (8), ROUNDS (5), SECONDS (10), HZ (20), KILLS (5), STREAM_HZ (50), PIN (1: server on CPU 0, clients on CPU 1),
// PING_MS / IDLE_MS (the room's pingIntervalMs / idleTimeoutMs; default: the library's 250 / 1,000).
// The server runs as a child process (bench/peers/server.ts), so its CPU is read from /proc/<pid>/stat apart from the
// werift clients, which all run in this process. Traffic stays on 127.0.0.1 (host candidates only, no STUN).
import { availableParallelism, loadavg } from 'node:os';
import { type JoinRound, joinRound } from './peers/join.js';
import { closeAll, joinRoom, type Member, until } from './peers/members.js';
import { MESH_ROOM, RELAY_ROOM } from './peers/protocol.js';
import { pin, ServerProc } from './peers/server-proc.js';
import { runTakeover, type TakeoverResult } from './peers/takeover.js';
import { pct, r3, runTraffic } from './peers/traffic.js';

const num = (name: string, fallback: number): number => {
  const v = Number(process.env[name] ?? fallback);
  return Number.isFinite(v) && v > 0 ? v : fallback;
};

const params = {
  PEERS: Math.max(2, Math.floor(num('PEERS', 8))),
  ROUNDS: Math.floor(num('ROUNDS', 5)),
  SECONDS: num('SECONDS', 10),
  HZ: num('HZ', 20),
  KILLS: Math.floor(num('KILLS', 5)),
  STREAM_HZ: num('STREAM_HZ', 50),
  PING_MS: process.env.PING_MS ? num('PING_MS', 250) : 'default',
  IDLE_MS: process.env.IDLE_MS ? num('IDLE_MS', 1_000) : 'default',
};
const wantPin = process.env.PIN !== '0';
const log = (message: string): void => void process.stderr.write(`bench:peers: ${message}\n`);
const load = (): number[] => loadavg().map((v) => Number(v.toFixed(2)));

async function main(): Promise<void> {
  const startedAt = Date.now();
  const cores = availableParallelism(); // before pinning: afterwards it counts the CPUs this process may use
  const loadStart = load();
  const server = await ServerProc.start(wantPin ? 0 : null);
  const selfPinned = wantPin && server.pinned && pin(process.pid, 1);
  let leaked = 0;
  try {
    // 1. Join → all direct links, ROUNDS times; the last round's room carries the 20 Hz workload.
    const rounds: JoinRound[] = [];
    let mesh: Member[] = [];
    for (let r = 0; r < params.ROUNDS; r++) {
      const { round, members } = await joinRound(server.url, params.PEERS);
      rounds.push(round);
      log(`join round ${r}: all direct ${round.allDirectMs.toFixed(0)} ms`);
      if (r < params.ROUNDS - 1) leaked += await closeAll(members);
      else mesh = members;
    }
    const traffic = { seconds: params.SECONDS, hz: params.HZ, warmupMs: 1_000, graceMs: 500 };

    // 2. The workload with every pair direct.
    const meshResult = await runTraffic(server, mesh, traffic);
    log(`mesh: direct share ${meshResult.direct_byte_share}`);
    leaked += await closeAll(mesh);

    // 3. The same workload, relay only (`maxMesh: 0`).
    const relay = (await joinRoom(server.url, RELAY_ROOM, params.PEERS)).members;
    await until(
      () => relay.every((m) => m.room.peers.list().length === params.PEERS - 1),
      10_000,
      'relay peers',
    );
    const relayResult = await runTraffic(server, relay, traffic);
    log(`relay only: ${relayResult.relay_bytes_per_s} B/s relayed`);
    leaked += await closeAll(relay);

    // 4. Relay takeover when a direct link dies mid-stream: closed, then silently dead (a fresh pair each).
    const takeovers: TakeoverResult[] = [];
    for (const mode of ['close', 'silent'] as const) {
      const pair = (await joinRoom(server.url, MESH_ROOM, 2)).members;
      const result = await runTakeover(pair[0], pair[1], {
        mode,
        kills: params.KILLS,
        streamHz: params.STREAM_HZ,
        settleMs: 500,
      });
      takeovers.push(result);
      log(`takeover (${mode}): b relay max ${result.b_relay_max_ms} ms`);
      leaked += await closeAll(pair);
    }
    const [closed, silent] = takeovers;

    const allDirect = rounds.map((r) => r.allDirectMs);
    const pairs = rounds.flatMap((r) => r.pairMs);
    const worst = (t: TakeoverResult): number =>
      Math.max(
        t.a_relay_max_ms ?? Number.POSITIVE_INFINITY,
        t.b_relay_max_ms ?? Number.POSITIVE_INFINITY,
        t.first_after_kill_max_ms ?? Number.POSITIVE_INFINITY,
      );
    const lossless = (t: TakeoverResult): boolean =>
      t.lost === 0 && t.duplicated === 0 && t.out_of_order === 0 && t.kills_done === params.KILLS;
    const line = {
      bench: 'peers',
      date: new Date(startedAt).toISOString(),
      node: process.version,
      cores,
      loadavg_start: loadStart,
      loadavg_end: load(),
      pinned: { server: server.pinned, clients: selfPinned },
      server_cpu_source: '/proc/<pid>/stat of the server child process',
      ...params,
      join: {
        rounds: rounds.length,
        all_direct_p50_ms: r3(pct(allDirect, 50)),
        all_direct_p99_ms: r3(pct(allDirect, 99)),
        all_direct_max_ms: r3(Math.max(...allDirect)),
        all_joined_p50_ms: r3(
          pct(
            rounds.map((r) => r.allJoinedMs),
            50,
          ),
        ),
        pair_setup_p50_ms: r3(pct(pairs, 50)),
        pair_setup_p99_ms: r3(pct(pairs, 99)),
      },
      mesh: meshResult,
      relay_only: relayResult,
      saved: {
        relay_bytes_per_s: relayResult.relay_bytes_per_s - meshResult.relay_bytes_per_s,
        relay_bytes_fraction: r3(
          relayResult.relay_bytes_per_s > 0
            ? 1 - meshResult.relay_bytes_per_s / relayResult.relay_bytes_per_s
            : 0,
        ),
        server_cpu: r3(relayResult.server_cpu - meshResult.server_cpu),
        server_session_bytes_per_s:
          relayResult.server_session_bytes_per_s - meshResult.server_session_bytes_per_s,
      },
      takeover_close: closed,
      takeover_silent: silent,
      targets: {
        direct_share_ge_0_90: meshResult.direct_byte_share >= 0.9,
        relay_bytes_saved: relayResult.relay_bytes_per_s > meshResult.relay_bytes_per_s,
        takeover_close_le_1000_ms: worst(closed) <= 1000,
        takeover_silent_le_1000_ms: worst(silent) <= 1000,
        takeover_lossless: lossless(closed) && lossless(silent),
      },
      pcs_open_3s_after_close: leaked,
      runtime_s: Math.round((Date.now() - startedAt) / 1000),
    };
    process.stdout.write(`${JSON.stringify(line)}\n`);
  } finally {
    await server.stop();
  }
}

main().then(
  () => process.exit(0), // werift keeps UDP sockets of closed connections referenced for a while
  (err: unknown) => {
    process.stderr.write(
      `bench:peers failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    process.exit(1);
  },
);
