// Summarises a .cpuprofile: top functions by self time and by total (inclusive) time.
// Usage: node --import tsx bench/arena/profile-top.ts <file.cpuprofile> [rows]
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const [file, rowsArg] = process.argv.slice(2);
if (!file) throw new Error('usage: profile-top.ts <file.cpuprofile> [rows]');
const rows = Number(rowsArg ?? 30);
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;

const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

function label(n: ProfileNode): string {
  const { functionName, url, lineNumber, columnNumber } = n.callFrame;
  const where = url ? url.replace(/^file:\/\/\/work\/main\//, '').replace(/^.*node_modules\//, '') : '';
  const pos = where ? ` ${where}:${lineNumber + 1}:${columnNumber + 1}` : '';
  return `${functionName || '(anonymous)'}${pos}`;
}

const self = new Map<string, number>();
const total = new Map<string, number>();
let all = 0;
let idle = 0;
for (let i = 0; i < profile.samples.length; i++) {
  const dt = profile.timeDeltas[i] ?? 0;
  let node = byId.get(profile.samples[i]);
  if (!node) continue;
  all += dt;
  if (node.callFrame.functionName === '(idle)') {
    idle += dt;
    continue;
  }
  self.set(label(node), (self.get(label(node)) ?? 0) + dt);
  const seen = new Set<string>();
  while (node) {
    const key = label(node);
    if (!seen.has(key)) {
      seen.add(key);
      total.set(key, (total.get(key) ?? 0) + dt);
    }
    const up = parent.get(node.id);
    node = up === undefined ? undefined : byId.get(up);
  }
}

const busy = all - idle;
const pct = (v: number) => `${((v / busy) * 100).toFixed(1).padStart(5)}%`;
console.log(
  `profile ${(all / 1e6).toFixed(2)} s, busy ${(busy / 1e6).toFixed(2)} s (percentages are of busy time)`,
);
console.log('\nself time:');
for (const [k, v] of [...self].sort((a, b) => b[1] - a[1]).slice(0, rows)) console.log(`${pct(v)}  ${k}`);
console.log('\ntotal time:');
for (const [k, v] of [...total].sort((a, b) => b[1] - a[1]).slice(0, rows)) console.log(`${pct(v)}  ${k}`);
