// netloom side of the arena benchmark: the same simulation as the raw baseline, as a netloom room.
// The server makes ceil(C / P) rooms at start and prints their ids with its port; the load generator
// joins client i to room floor(i / P) by id. The room (arena-room.ts) sends state as STATE says.
import { createServer, memoryDriver } from '../../src/server/index.js';
import { arenaRoom } from './arena-room.js';
import { installNativeCallTimer } from './native-calls.js';
import { installWindowProfiler } from './profile.js';
import { startServerStats } from './server-stats.js';
import { readParams, roomCount, TICK_HZ } from './workload.js';

/** Every room made, for the tick counts in the shutdown stats. */
const liveRooms: { readonly tick: number }[] = [];
const params = readParams();

// Rooms are made up front (client i joins room floor(i / P)); keep them while empty.
const Arena = arenaRoom({
  P: params.P,
  state: params.STATE,
  autoDispose: false,
  onCreate: (room) => liveRooms.push(room),
});

// Every bench client joins from loopback: the per-IP join rate limit would throttle the ramp-up.
const server = await createServer({
  rooms: { arena: Arena },
  driver: memoryDriver(),
  logger: false,
  joinRatePerIp: false,
  // Over WebTransport the clients upgrade to this node's QUIC endpoint (loopback, any free UDP port).
  webtransport: { enabled: params.TRANSPORT === 'webtransport' },
});
await server.listen({ port: 0, host: '127.0.0.1' });
const address = server.server.address();
if (address === null || typeof address === 'string') throw new Error('expected a TCP address');
const rooms: string[] = [];
for (let r = 0; r < roomCount(params.C, params.P); r++)
  rooms.push((await server.netloom.rooms.create('arena')).id);
process.stdout.write(`${JSON.stringify({ port: address.port, rooms })}\n`);

const startedAt = performance.now();
const readStats = startServerStats();
const readNativeCalls = installNativeCallTimer();

function shutdown(): void {
  // Diagnostics for the runner's stderr: netloom's counters, and ticks run against ticks due.
  const due = Math.floor(((performance.now() - startedAt) / 1000) * TICK_HZ);
  const stats = {
    event: 'stats',
    ticks_due: due,
    ticks_min: Math.min(...liveRooms.map((r) => r.tick)),
    ...readStats(),
    metrics: server.netloom.metrics(),
    native_calls: readNativeCalls() ?? undefined,
  };
  process.stdout.write(`${JSON.stringify(stats)}\n`);
  // Exit at once (process.exit also lets a profiler finish); a graceful close is not measured.
  process.exit(0);
}
installWindowProfiler();
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
