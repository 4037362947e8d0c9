// Shared definition of the arena workload (ARENA.md v1): parameters, PRNG, input walk, simulation step.
import { mulberry32 } from '../../src/shared/random.js';

/** Arena side length; positions are clamped to [0, ARENA_SIZE]. */
export const ARENA_SIZE = 1000;
/** Where every player spawns. */
export const SPAWN = 500;
/** Units moved per tick at |dx| = 1. */
export const SPEED = 2;
/** Server tick rate and client input rate. */
export const TICK_HZ = 30;
export const TICK_MS = 1000 / TICK_HZ;
/** A client that falls behind its input schedule by more than this many periods drops the backlog. */
export const MAX_BACKLOG_PERIODS = 5;
/** Joins in flight at once in the load generator. */
export const JOIN_CONCURRENCY = 8;

/** Benchmark parameters, read from the environment (see ARENA.md). */
export interface ArenaParams {
  C: number;
  P: number;
  SECONDS: number;
  WARMUP: number;
  GRACE: number;
  SEED: number;
  TRANSPORT: string;
  /**
   * How the netloom server sends state (the raw baseline always splices each client's ack into one
   * serialised array): `snapshot` (default) broadcasts one message per room per tick carrying every
   * player's ack, encoded once; `per-client` sends each client its own message with only its ack.
   */
  STATE: 'snapshot' | 'per-client';
}

function envNumber(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0)
    throw new Error(`${name} must be a non-negative number, got ${raw}`);
  return value;
}

export function readParams(env: NodeJS.ProcessEnv = process.env): ArenaParams {
  const params: ArenaParams = {
    C: Math.floor(envNumber(env, 'C', 64)),
    P: Math.floor(envNumber(env, 'P', 16)),
    SECONDS: envNumber(env, 'SECONDS', 10),
    WARMUP: envNumber(env, 'WARMUP', 3),
    GRACE: envNumber(env, 'GRACE', 1),
    SEED: Math.floor(envNumber(env, 'SEED', 1)),
    TRANSPORT: env['TRANSPORT'] || 'websocket',
    STATE: env['STATE'] === 'per-client' ? 'per-client' : 'snapshot',
  };
  if (env['STATE'] && env['STATE'] !== params.STATE) throw new Error('STATE must be snapshot or per-client');
  if (params.C < 1 || params.P < 1) throw new Error('C and P must be at least 1');
  if (params.SECONDS <= 0) throw new Error('SECONDS must be positive');
  return params;
}

/** Room index of client `i` (ARENA.md: client i joins room floor(i / P)). */
export function roomOf(i: number, P: number): number {
  return Math.floor(i / P);
}

export function roomCount(C: number, P: number): number {
  return Math.ceil(C / P);
}

export { mulberry32 };

/** Seed of client `i`'s heading walk: SEED * 1000003 + i. */
export function walkSeed(seed: number, i: number): number {
  return (seed * 1000003 + i) >>> 0;
}

/**
 * Random phase of client `i`'s input schedule in [0, TICK_MS). ARENA.md does not say where it comes
 * from; it is drawn from a separate mulberry32 stream so the heading walk stays exactly as specified.
 */
export function inputPhase(seed: number, i: number): number {
  return mulberry32((walkSeed(seed, i) ^ 0x9e3779b9) >>> 0)() * TICK_MS;
}

/** The random walk of a heading that drives one client's inputs. */
export class InputWalk {
  private readonly rng: () => number;
  private theta: number;
  private seq = 0;

  constructor(seed: number, i: number) {
    this.rng = mulberry32(walkSeed(seed, i));
    this.theta = this.rng() * 2 * Math.PI;
  }

  /** The next input; `seq` starts at 1. The first input uses θ0 plus one step. */
  next(): { seq: number; dx: number; dy: number } {
    this.theta += this.rng() * 0.5 - 0.25;
    this.seq += 1;
    return { seq: this.seq, dx: Math.cos(this.theta), dy: Math.sin(this.theta) };
  }
}

/** One player's authoritative state plus its latest unprocessed input. */
export interface SimPlayer {
  id: number;
  x: number;
  y: number;
  ack: number;
  /** Latest received input not yet applied (older unprocessed ones are overwritten). */
  pendingSeq: number;
  pendingDx: number;
  pendingDy: number;
}

export function spawnPlayer(id: number): SimPlayer {
  return { id, x: SPAWN, y: SPAWN, ack: 0, pendingSeq: 0, pendingDx: 0, pendingDy: 0 };
}

/** Records an input; a stale one (seq not above what is pending or acked) is ignored. */
export function receiveInput(player: SimPlayer, seq: number, dx: number, dy: number): void {
  if (!(seq > player.pendingSeq) || !(seq > player.ack)) return;
  player.pendingSeq = seq;
  player.pendingDx = dx;
  player.pendingDy = dy;
}

function clamp(value: number, lo: number, hi: number): number {
  // NaN (a malformed input) maps to lo rather than poisoning the position.
  if (!(value > lo)) return lo;
  return Math.min(value, hi);
}

/** One tick of the simulation for one player (ARENA.md "Simulation"). */
export function stepPlayer(player: SimPlayer): void {
  if (player.pendingSeq <= player.ack) return;
  const dx = clamp(player.pendingDx, -1, 1);
  const dy = clamp(player.pendingDy, -1, 1);
  player.x = clamp(player.x + dx * SPEED, 0, ARENA_SIZE);
  player.y = clamp(player.y + dy * SPEED, 0, ARENA_SIZE);
  player.ack = player.pendingSeq;
}

/**
 * A drift-corrected fixed-rate loop: tick n fires at start + n * periodMs; when the loop falls more
 * than `maxBehind` ticks behind it skips ahead instead of bursting. Returns a stop function.
 */
export function fixedRateLoop(periodMs: number, onTick: (tick: number) => void, maxBehind = 5): () => void {
  const start = performance.now();
  let n = 0;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const run = (): void => {
    if (stopped) return;
    const due = Math.floor((performance.now() - start) / periodMs);
    if (due - n > maxBehind) n = due - 1;
    while (n < due && !stopped) {
      n += 1;
      onTick(n);
    }
    if (stopped) return;
    timer = setTimeout(run, Math.max(0, start + (n + 1) * periodMs - performance.now()));
  };
  timer = setTimeout(run, periodMs);
  return () => {
    stopped = true;
    if (timer) clearTimeout(timer);
  };
}
