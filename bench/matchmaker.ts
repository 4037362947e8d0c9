// Matchmaker benchmark: tickets through validation, matching passes and delivery per wall-clock second; one JSON line.
import os from 'node:os';
import { Matchmaker } from '../src/server/matchmaker/index.js';
import { Metrics } from '../src/server/metrics.js';
import { ManualClock } from '../src/shared/clock.js';
import { standInDeps, ticketWorkload } from './matchmaker-workload.js';

const TICKETS = Number(process.env.TICKETS ?? 40_000);
/** Tickets arriving per simulated second. */
const RATE = Number(process.env.RATE ?? 4_000);
const INTERVAL_MS = Number(process.env.INTERVAL_MS ?? 500);

const { request } = ticketWorkload(42);

const clock = new ManualClock();
const metrics = new Metrics();
const mm = new Matchmaker(standInDeps(clock, metrics), {
  intervalMs: INTERVAL_MS,
  widening: { skill: { perSecond: 50, max: 400 } },
  maxPendingTickets: TICKETS,
  ticketsPerUser: TICKETS,
});

const requests = Array.from({ length: TICKETS }, request);
const perPass = Math.max(1, Math.round((RATE * INTERVAL_MS) / 1000));
const started = performance.now();
let submitted = 0;
let passes = 0;
while (submitted < TICKETS) {
  const end = Math.min(TICKETS, submitted + perPass);
  for (; submitted < end; submitted++) await mm.submit(requests[submitted]);
  clock.advance(INTERVAL_MS); // the timer runs one pass
  await mm.settled();
  passes++;
}
for (let i = 0; i < 20; i++) {
  clock.advance(INTERVAL_MS);
  await mm.settled();
  passes++;
}
const seconds = (performance.now() - started) / 1000;
const stats = mm.stats();
const matched = metrics.get('matchmaker_tickets{matched}');
mm.close();

console.log(
  JSON.stringify({
    bench: 'matchmaker',
    tickets: TICKETS,
    arrival_per_sim_s: RATE,
    passes,
    matches: stats.matches,
    matched_tickets: matched,
    left_pending: stats.pending,
    wall_s: Number(seconds.toFixed(3)),
    tickets_per_s: Math.round(TICKETS / seconds),
    node: process.version,
    cpu: os.cpus()[0]?.model ?? 'unknown',
  }),
);
