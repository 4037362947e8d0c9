// Cluster benchmarks runner: prints one JSON line per benchmark (join latency over 3 nodes; arena CPU, 1 vs 2 nodes).
// Env: BENCH (`join,arena`), JOINS (300), CONCURRENCY (4), NODES (3), and the arena parameters of bench/arena
// (C, default 512 here; P, SECONDS, WARMUP, GRACE, SEED), LAYOUTS (`single,cluster1,cluster2`), REPEAT (1).
import { readParams } from '../arena/workload.js';
import { canPin, round } from '../procs.js';
import { arenaLayout, LAYOUTS } from './arena.js';
import { joinBench } from './join.js';

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

async function main(): Promise<void> {
  const benches = (process.env.BENCH ?? 'join,arena').split(',').map((b) => b.trim());
  const params = readParams({ ...process.env, C: process.env.C ?? '512' });
  if (benches.includes('join')) {
    const line = await joinBench({
      JOINS: Number(process.env.JOINS ?? 300),
      CONCURRENCY: Number(process.env.CONCURRENCY ?? 4),
      NODES: Number(process.env.NODES ?? 3),
      P: params.P,
      SEED: params.SEED,
    });
    process.stdout.write(`${JSON.stringify(line)}\n`);
  }
  if (benches.includes('arena')) {
    if (!canPin) process.stderr.write('bench:cluster: not pinning (taskset missing or fewer than 2 cores)\n');
    const wanted = (process.env.LAYOUTS ?? LAYOUTS.map((l) => l.name).join(',')).split(',');
    const layouts = LAYOUTS.filter((l) => wanted.includes(l.name));
    const repeat = Math.max(1, Number(process.env.REPEAT ?? 1) | 0);
    const runs = new Map<string, Record<string, unknown>[]>();
    // Layouts alternate within each round, so slow drift of the machine affects them alike.
    for (let r = 0; r < repeat; r++) {
      for (const layout of layouts) {
        const result = await arenaLayout(layout, params);
        runs.set(layout.name, [...(runs.get(layout.name) ?? []), result]);
        process.stderr.write(`bench:cluster: ${JSON.stringify({ round: r, ...result })}\n`);
      }
    }
    const medianOf = (name: string, field: string): number | null => {
      const list = runs.get(name);
      return list ? median(list.map((x) => Number(x[field]))) : null;
    };
    const ratio = (name: string, field: string): number | null => {
      const value = medianOf(name, field);
      const single = medianOf('single', field);
      return single && value !== null ? round(value / single) : null;
    };
    const fields = ['server_cpu_ms_per_client_s', 'server_cpu_us_per_state'];
    process.stdout.write(
      `${JSON.stringify({
        bench: 'cluster-arena',
        C: params.C,
        P: params.P,
        SECONDS: params.SECONDS,
        rounds: repeat,
        ...Object.fromEntries(
          fields.map((f) => [f, Object.fromEntries(layouts.map((l) => [l.name, medianOf(l.name, f)]))]),
        ),
        // The cluster overhead: CPU per client (and per state delivered) of all nodes, over the lone node's.
        cluster1_vs_single: ratio('cluster1', 'server_cpu_ms_per_client_s'),
        cluster2_vs_single: ratio('cluster2', 'server_cpu_ms_per_client_s'),
        cluster1_vs_single_per_state: ratio('cluster1', 'server_cpu_us_per_state'),
        cluster2_vs_single_per_state: ratio('cluster2', 'server_cpu_us_per_state'),
        other_cpu_max: Math.max(...[...runs.values()].flat().map((x) => Number(x.other_cpu))),
        layouts: Object.fromEntries([...runs].map(([name, list]) => [name, list[list.length - 1]])),
        date: new Date().toISOString(),
      })}\n`,
    );
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`bench:cluster failed: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  },
);
