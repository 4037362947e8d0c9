// Cluster matchmaker benchmark: tickets/s filed, matched and long-polled by nodes sharing a redis-server; one JSON line.
import os from 'node:os';
import { Redis } from 'ioredis';
import { ClusterMatchmaker, type MatchmakerBackend } from '../src/server/matchmaker/index.js';
import { Metrics } from '../src/server/metrics.js';
import { systemClock } from '../src/shared/clock.js';
import { startRedis } from '../test/helpers/redis.js';
import { standInDeps, ticketWorkload } from './matchmaker-workload.js';

const TICKETS = Number(process.env.TICKETS ?? 20_000);
const NODES = Number(process.env.NODES ?? 3);
const INTERVAL_MS = Number(process.env.INTERVAL_MS ?? 100);
/** Submissions in flight per node. */
const CONCURRENCY = Number(process.env.CONCURRENCY ?? 32);
/** Share of tickets whose result is long-polled (on another node than the one that filed it). */
const WAIT_SHARE = Number(process.env.WAIT_SHARE ?? 1);

const { request, random } = ticketWorkload(42);

function backend(url: string): { backend: MatchmakerBackend; clients: Redis[] } {
  const commands = new Redis(url, { maxRetriesPerRequest: 1 });
  const subscriber = commands.duplicate();
  const handlers = new Map<string, (message: string) => void>();
  subscriber.on('message', (channel: string, message: string) => handlers.get(channel)?.(message));
  return {
    clients: [commands, subscriber],
    backend: {
      redis: commands,
      prefix: 'bench:',
      publish: (channel, message) => commands.publish(`bench:${channel}`, message),
      async subscribe(bare, onMessage) {
        const channel = `bench:${bare}`;
        handlers.set(channel, onMessage);
        await subscriber.subscribe(channel);
        return async () => {
          handlers.delete(channel);
          await subscriber.unsubscribe(channel);
        };
      },
    },
  };
}

const server = await startRedis();
const metrics: Metrics[] = [];
const clients: Redis[] = [];
const nodes = Array.from({ length: NODES }, (_, i) => {
  const b = backend(server.url);
  clients.push(...b.clients);
  const m = new Metrics();
  metrics.push(m);
  return new ClusterMatchmaker(
    standInDeps(systemClock, m),
    {
      intervalMs: INTERVAL_MS,
      widening: { skill: { perSecond: 50, max: 400 } },
      maxPendingTickets: TICKETS,
      longPollMs: 120_000,
    },
    { backend: b.backend, nodeId: `node${i}` },
  );
});

const requests = Array.from({ length: TICKETS }, request);
const waits: Array<Promise<unknown>> = [];
let next = 0;
const matchedNow = (): number => metrics.reduce((n, m) => n + m.get('matchmaker_tickets{matched}'), 0);
const started = performance.now();
/** (seconds since start, tickets matched so far), sampled through the run. */
const timeline: Array<[number, number]> = [];
const sampler = setInterval(() => timeline.push([(performance.now() - started) / 1000, matchedNow()]), 20);
await Promise.all(
  nodes.flatMap((mm, n) =>
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < TICKETS) {
        const i = next++;
        const { ticketId } = await mm.submit(requests[i]);
        if (random() < WAIT_SHARE) waits.push(nodes[(n + 1) % NODES].wait(ticketId));
      }
    }),
  ),
);
const submittedS = (performance.now() - started) / 1000;

// Done when nothing is claimed and the pending count has not moved for a few passes.
const probe = clients[0];
let lastChange = performance.now();
let last = -1;
for (let still = 0; still < 10; ) {
  await new Promise((r) => setTimeout(r, INTERVAL_MS));
  const [pending, claimed] = await Promise.all([
    probe.zcard('bench:mm:pending'),
    probe.zcard('bench:mm:claimed'),
  ]);
  if (pending !== last || claimed > 0) {
    last = pending;
    lastChange = performance.now();
    still = 0;
  } else still++;
}
clearInterval(sampler);
const seconds = (lastChange - started) / 1000;
const matched = matchedNow();
// The last tickets match only after their skill ranges widen for seconds (the policy, not the machine's
// capacity): the throughput is taken at the point where 99% of the tickets that matched had matched.
const [p99s, p99n] = timeline.find(([, n]) => n >= 0.99 * matched) ?? [seconds, matched];
const matches = metrics.reduce((n, m) => n + m.get('matchmaker_matches'), 0);
const lost = metrics.reduce((n, m) => n + m.get('matchmaker_claims_lost'), 0);
for (const mm of nodes) await mm.close();
await Promise.all(waits);
for (const c of clients) c.disconnect();
await server.stop();

console.log(
  JSON.stringify({
    bench: 'matchmaker-cluster',
    nodes: NODES,
    tickets: TICKETS,
    long_polled: waits.length,
    interval_ms: INTERVAL_MS,
    matches,
    matched_tickets: matched,
    left_pending: last,
    claims_lost: lost,
    submit_s: Number(submittedS.toFixed(3)),
    matched_99pct_s: Number(p99s.toFixed(3)),
    all_done_s: Number(seconds.toFixed(3)),
    tickets_per_s: Math.round(p99n / p99s),
    tickets_per_s_incl_tail: Math.round(matched / seconds),
    node: process.version,
    cpu: os.cpus()[0]?.model ?? 'unknown',
    cores: os.cpus().length,
  }),
);
