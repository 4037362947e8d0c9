// Codec benchmark: netloom checked decode vs raw packcat, msgpackr and JSON on the arena state message; one JSON line.
import os from 'node:os';
import { pack as msgpack, unpack as msgunpack, Packr } from 'msgpackr';
import { build, compileChecker, defineProtocol, p } from '../src/codec/index.js';

const PLAYERS = Number(process.env.PLAYERS ?? 16);
const MS = Number(process.env.BENCH_MS ?? 400);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);

const state = p.object({
  tick: p.varuint(),
  ack: p.varuint(),
  players: p.list(p.object({ id: p.varuint(), x: p.float32(), y: p.float32() })),
});
const protocol = defineProtocol({ client: {}, server: { state } });
const op = protocol.server.opOf('state');
const built = build(state);
const check = compileChecker(state);

const f32 = (v: number) => Math.fround(v);
const value = {
  tick: 123_456,
  ack: 7_890,
  players: Array.from({ length: PLAYERS }, (_, i) => ({
    id: i + 1,
    x: f32(100 + i * 37.25 + i / 7),
    y: f32(900 - i * 41.5 + i / 3),
  })),
};
const bytes = built.pack(value);
const records = new Packr({ useRecords: true });
const msgBytes = msgpack(value);
const recBytes = records.pack(value);
const jsonText = JSON.stringify(value);
const jsonBytes = new TextEncoder().encode(jsonText).length;

let sink = 0;
const cases: Record<string, () => void> = {
  checked_decode: () => {
    sink += protocol.server.decode(op, bytes).value.tick;
  },
  check_only: () => {
    check(bytes, 0, bytes.length);
    sink++;
  },
  raw_unpack: () => {
    sink += built.unpack(bytes).tick;
  },
  packcat_pack: () => {
    sink += built.pack(value).length;
  },
  netloom_encode: () => {
    sink += protocol.server.encode('state', value).payload.length;
  },
  msgpackr_pack: () => {
    sink += msgpack(value).length;
  },
  msgpackr_unpack: () => {
    sink += (msgunpack(msgBytes) as typeof value).tick;
  },
  msgpackr_records_pack: () => {
    sink += records.pack(value).length;
  },
  msgpackr_records_unpack: () => {
    sink += (records.unpack(recBytes) as typeof value).tick;
  },
  json_stringify: () => {
    sink += JSON.stringify(value).length;
  },
  json_parse: () => {
    sink += (JSON.parse(jsonText) as typeof value).tick;
  },
};

/** Runs `fn` in batches for about `ms` milliseconds; returns operations per second. */
function measure(fn: () => void, ms: number): number {
  let ops = 0;
  const start = performance.now();
  let now = start;
  while (now - start < ms) {
    for (let i = 0; i < 1000; i++) fn();
    ops += 1000;
    now = performance.now();
  }
  return (ops * 1000) / (now - start);
}

// Warm up every case, then interleave rounds so machine noise hits all cases alike; keep the median.
for (const fn of Object.values(cases)) measure(fn, 150);
const samples: Record<string, number[]> = Object.fromEntries(Object.keys(cases).map((name) => [name, []]));
for (let r = 0; r < ROUNDS; r++) {
  for (const [name, fn] of Object.entries(cases)) samples[name].push(measure(fn, MS));
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const opsPerSec: Record<string, number> = {};
for (const [name, xs] of Object.entries(samples)) opsPerSec[name] = Math.round(median(xs));

console.log(
  JSON.stringify({
    bench: 'codec',
    date: new Date().toISOString(),
    node: process.version,
    cpus: os.cpus().length,
    message: `arena state, ${PLAYERS} players`,
    ops_per_sec: opsPerSec,
    bytes: {
      packcat: bytes.length,
      msgpackr: msgBytes.length,
      msgpackr_records: recBytes.length,
      json: jsonBytes,
    },
    ratio_checked_vs_raw_unpack: Number((opsPerSec.checked_decode / opsPerSec.raw_unpack).toFixed(3)),
    target_ratio: 0.7,
    sink: sink > 0,
  }),
);
