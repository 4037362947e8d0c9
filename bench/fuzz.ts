// Fuzz benchmark: N random and mutated frames through the server's decode path; one JSON line with counts and memory.
import v8 from 'node:v8';
import vm from 'node:vm';
import { fuzzInput, mulberry32, serverDecode } from '../test/codec/fuzz-corpus.js';

// Memory is sampled after a full collection, so the numbers show what is retained, not GC timing.
v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

const FRAMES = Number(process.env.FUZZ_FRAMES ?? 1_000_000);
const SEED = Number(process.env.FUZZ_SEED ?? 0x5eed);

function memory(): { rss_mb: number; heap_used_mb: number } {
  gc();
  const m = process.memoryUsage();
  return { rss_mb: Math.round(m.rss / 1048576), heap_used_mb: Math.round(m.heapUsed / 1048576) };
}

const rnd = mulberry32(SEED);
const rejected: Record<string, number> = {};
const crashes: string[] = [];
let ok = 0;
let crashCount = 0;
let maxFrameMs = 0;
let decodeMs = 0;
const mem: Record<string, ReturnType<typeof memory>> = { start_after_gc: memory() };
const started = performance.now();

for (let i = 0; i < FRAMES; i++) {
  if (i === Math.floor(FRAMES / 2)) mem.middle_after_gc = memory();
  const input = fuzzInput(rnd);
  const t0 = performance.now();
  try {
    const outcome = serverDecode(input);
    if (outcome === 'ok') ok++;
    else if (outcome === 'internal_error') {
      crashCount++;
      if (crashes.length < 5) crashes.push(`internal_error on [${Array.from(input).join(',')}]`);
    } else rejected[outcome] = (rejected[outcome] ?? 0) + 1;
  } catch (err) {
    crashCount++;
    if (crashes.length < 5) crashes.push(`${String(err)} on [${Array.from(input).join(',')}]`);
  }
  const dt = performance.now() - t0;
  decodeMs += dt;
  if (dt > maxFrameMs) maxFrameMs = dt;
}
mem.end_after_gc = memory();

console.log(
  JSON.stringify({
    bench: 'fuzz',
    date: new Date().toISOString(),
    node: process.version,
    seed: SEED,
    frames: FRAMES,
    decoded_ok: ok,
    rejected: Object.fromEntries(Object.entries(rejected).sort((a, b) => b[1] - a[1])),
    crashes: crashCount,
    crash_samples: crashes,
    max_frame_ms: Number(maxFrameMs.toFixed(3)),
    mean_decode_us: Number(((decodeMs * 1000) / FRAMES).toFixed(3)),
    wall_s: Number(((performance.now() - started) / 1000).toFixed(1)),
    memory: mem,
  }),
);
process.exitCode = crashCount === 0 ? 0 : 1;
