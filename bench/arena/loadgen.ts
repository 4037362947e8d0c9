// Arena load generator: drives all C clients of one system, measures latency, bytes and ticks, reports JSON.
// Protocol with the runner: one JSON object per stdout line, `event` = joined | window-start | window-end
// | result. Env: SYSTEM (raw-ws | netloom), PORT, ROOM_IDS (netloom: the server's room ids), plus the ARENA.md parameters (see workload.ts).
import { monitorEventLoopDelay } from 'node:perf_hooks';
import {
  type BenchConn,
  bytesSince,
  type Connect,
  JOIN_TIMEOUT_MS,
  joinPhaseMs,
  rawConnect,
  snapshotWire,
} from './bench-client.js';
import {
  InputWalk,
  inputPhase,
  JOIN_CONCURRENCY,
  MAX_BACKLOG_PERIODS,
  readParams,
  roomCount,
  roomOf,
  TICK_HZ,
  TICK_MS,
} from './workload.js';

const CLOSE_TIMEOUT_MS = 5_000;
/** The delay histogram records whole timer intervals; the lag is what exceeds this resolution. */
const LAG_RESOLUTION_MS = 10;

type Phase = 'warmup' | 'window' | 'grace' | 'done';

const params = readParams();
const system = process.env['SYSTEM'] ?? 'raw-ws';
const port = Number(process.env['PORT']);
if (!Number.isInteger(port) || port <= 0) throw new Error('PORT must be set');

function emit(event: string, fields: Record<string, unknown> = {}): void {
  process.stdout.write(`${JSON.stringify({ event, ...fields })}\n`);
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

let phase: Phase = 'warmup';
const latencies: number[] = [];

/** One simulated player: its input schedule and its measurements. */
class SimClient {
  conn: BenchConn | undefined;
  readonly walk: InputWalk;
  /** Due time of the next input on the absolute schedule base + phase + n * TICK_MS. */
  next: number;
  /** Inputs sent inside the window and not yet acked: parallel arrays consumed from `head`. */
  private readonly pendingSeq: number[] = [];
  private readonly pendingAt: number[] = [];
  private head = 0;
  statesInWindow = 0;
  inputsInWindow = 0;

  constructor(
    readonly index: number,
    base: number,
  ) {
    this.walk = new InputWalk(params.SEED, index);
    this.next = base + inputPhase(params.SEED, index);
  }

  readonly onState = (ack: number): void => {
    if (phase === 'window') this.statesInWindow += 1;
    if (this.head < this.pendingSeq.length && this.pendingSeq[this.head] <= ack) {
      const now = performance.now();
      while (this.head < this.pendingSeq.length && this.pendingSeq[this.head] <= ack) {
        latencies.push(now - this.pendingAt[this.head]);
        this.head += 1;
      }
    }
  };

  /** Moves the schedule to the first slot not in the past (when the client has just joined). */
  skipPast(now: number): void {
    if (this.next < now) this.next += Math.ceil((now - this.next) / TICK_MS) * TICK_MS;
  }

  /** Sends every input due by `now`; a backlog over MAX_BACKLOG_PERIODS is dropped. */
  fire(now: number): void {
    const conn = this.conn;
    if (conn === undefined) return;
    const behind = Math.floor((now - this.next) / TICK_MS);
    if (behind > MAX_BACKLOG_PERIODS) this.next += behind * TICK_MS;
    while (this.next <= now) {
      const input = this.walk.next();
      const sentAt = performance.now();
      conn.sendInput(input.seq, input.dx, input.dy);
      if (phase === 'window') {
        this.inputsInWindow += 1;
        this.pendingSeq.push(input.seq);
        this.pendingAt.push(sentAt);
      }
      this.next += TICK_MS;
    }
  }

  unacked(): number {
    return this.pendingSeq.length - this.head;
  }
}

/** One timer for all clients' input schedules (cheaper than a timer per client per input). */
class InputScheduler {
  private readonly active: SimClient[] = [];
  private timer: NodeJS.Timeout | undefined;
  private armedAt = Number.POSITIVE_INFINITY;
  private stopped = false;

  add(client: SimClient): void {
    client.skipPast(performance.now());
    this.active.push(client);
    this.arm(client.next);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }

  private arm(at: number): void {
    if (this.stopped || at >= this.armedAt) return;
    if (this.timer) clearTimeout(this.timer);
    this.armedAt = at;
    this.timer = setTimeout(this.run, Math.max(0, at - performance.now()));
  }

  private readonly run = (): void => {
    this.armedAt = Number.POSITIVE_INFINITY;
    if (this.stopped) return;
    const now = performance.now();
    let soonest = Number.POSITIVE_INFINITY;
    for (const client of this.active) {
      if (client.next <= now) client.fire(now);
      if (client.next < soonest) soonest = client.next;
    }
    this.arm(soonest);
  };
}

async function loadConnect(): Promise<Connect> {
  if (system === 'raw-ws') return rawConnect(port, JOIN_TIMEOUT_MS);
  if (system === 'netloom') {
    const { netloomConnect } = await import('./netloom-client.js');
    const roomIds = (process.env['ROOM_IDS'] ?? '').split(',').filter(Boolean);
    if (roomIds.length < roomCount(params.C, params.P))
      throw new Error('ROOM_IDS must list the server rooms');
    return netloomConnect(port, roomIds, params.TRANSPORT, JOIN_TIMEOUT_MS);
  }
  throw new Error(`unknown SYSTEM ${system}`);
}

function percentile(sorted: Float64Array, p: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.max(0, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.min(rank, sorted.length - 1)];
}

const round = (v: number | null, digits = 3): number | null =>
  v === null || !Number.isFinite(v) ? null : Number(v.toFixed(digits));

async function main(): Promise<void> {
  const connect = await loadConnect();
  const base = performance.now();
  const clients = Array.from({ length: params.C }, (_, i) => new SimClient(i, base));
  const scheduler = new InputScheduler();
  const joinErrors: string[] = [];
  const joinStart = performance.now();
  let cursor = 0;
  // Stop starting joins after this, so a stuck server still yields a report (with join errors).
  const joinDeadline = joinStart + joinPhaseMs(params.C);
  const worker = async (): Promise<void> => {
    while (cursor < clients.length && performance.now() < joinDeadline) {
      const client = clients[cursor++];
      try {
        client.conn = await connect(client.index, roomOf(client.index, params.P), client.onState);
        scheduler.add(client);
      } catch (err) {
        if (joinErrors.length < 5) joinErrors.push(`client ${client.index}: ${(err as Error).message}`);
        else joinErrors.push('');
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(JOIN_CONCURRENCY, clients.length) }, worker));
  const joined = clients.filter((c) => c.conn !== undefined).length;
  emit('joined', {
    joined,
    join_ms: Math.round(performance.now() - joinStart),
    errors: joinErrors.length,
    first_errors: joinErrors.filter((e) => e !== '').slice(0, 5),
  });
  if (joined === 0) throw new Error(`no client joined: ${joinErrors[0] ?? 'unknown'}`);

  await sleep(params.WARMUP * 1000);
  const lag = monitorEventLoopDelay({ resolution: LAG_RESOLUTION_MS });
  const wireStart = snapshotWire();
  emit('window-start');
  phase = 'window';
  lag.enable();
  await sleep(params.SECONDS * 1000);
  phase = 'grace';
  lag.disable();
  const wire = bytesSince(wireStart);
  const connected = clients.filter((c) => c.conn?.isOpen()).length;
  emit('window-end');
  await sleep(params.GRACE * 1000);
  phase = 'done';
  scheduler.stop();

  const sorted = Float64Array.from(latencies).sort();
  const expected = params.SECONDS * TICK_HZ;
  const fractions = clients.filter((c) => c.conn !== undefined).map((c) => c.statesInWindow / expected);
  const perClientSecond = Math.max(1, connected) * params.SECONDS;
  const rooms = new Set(clients.flatMap((c) => (c.conn ? [c.conn.roomId] : []))).size;
  emit('result', {
    clients_connected: connected,
    rooms,
    lat_p50_ms: round(percentile(sorted, 50)),
    lat_p95_ms: round(percentile(sorted, 95)),
    lat_p99_ms: round(percentile(sorted, 99)),
    lat_max_ms: round(sorted.length ? sorted[sorted.length - 1] : null),
    lat_samples: sorted.length,
    lat_unacked: clients.reduce((n, c) => n + c.unacked(), 0),
    // Wire bytes are counted on TCP sockets; over WebRTC the game travels on UDP, so they are not reported.
    down_bytes_per_client_s: params.TRANSPORT === 'websocket' ? round(wire.read / perClientSecond, 1) : null,
    up_bytes_per_client_s: params.TRANSPORT === 'websocket' ? round(wire.written / perClientSecond, 1) : null,
    tick_fraction_mean: round(fractions.reduce((a, b) => a + b, 0) / Math.max(1, fractions.length), 4),
    tick_fraction_min: round(fractions.length ? Math.min(...fractions) : 0, 4),
    inputs_per_client_s: round(
      clients.reduce((n, c) => n + c.inputsInWindow, 0) / (Math.max(1, joined) * params.SECONDS),
      2,
    ),
    loadgen_loop_lag_p99_ms: round(Math.max(0, lag.percentile(99) / 1e6 - LAG_RESOLUTION_MS)),
  });

  await Promise.race([
    Promise.allSettled(clients.map((c) => c.conn?.close() ?? Promise.resolve())),
    sleep(CLOSE_TIMEOUT_MS),
  ]);
  process.exit(0);
}

// Exit through process.exit on SIGTERM so that --cpu-prof still writes its profile.
process.on('SIGTERM', () => process.exit(0));

main().catch((err: unknown) => {
  emit('error', { message: err instanceof Error ? err.message : String(err) });
  process.exit(1);
});
