// The floor under WebTransport's server CPU in the arena: the quiche binding's calls and Node's UDP sockets alone, with no netloom code; JSON lines.
// Env: C (clients, default 256), HZ (ticks and inputs per second, default 30), SECONDS (UDP window, default 10),
// STATE_BYTES / INPUT_BYTES (datagram sizes, default 180 / 24; the arena's state and input over WebTransport).
//
// Per client per tick the arena server sends one state datagram and receives one input datagram, each in a
// packet of its own (the endpoint's counters show this). `binding` times the native calls the server makes
// for that pair (dgramSend, send until null, timeout; recv, dgramRecv, isReadable) between in-process quiche
// connections, and scales them to C clients at HZ. `udp` runs a server process that sends one UDP packet of
// the state's size per client per tick and receives one of the input's size from each client per tick,
// doing nothing else, with the clients in another process; it reports that server's CPU. The two added
// together are what WebTransport costs before any of netloom's own code runs.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { fileURLToPath } from 'node:url';
import { generateCertificate } from '../src/server/transports/webtransport/certificates.js';
import {
  buildClientConfig,
  buildServerConfig,
  type Connection,
  quiche,
} from '../src/server/transports/webtransport/config.js';
import { canPin } from './procs.js';

const C = Number(process.env.C ?? 256);
const HZ = Number(process.env.HZ ?? 30);
const SECONDS = Number(process.env.SECONDS ?? 10);
const STATE_BYTES = Number(process.env.STATE_BYTES ?? 180);
const INPUT_BYTES = Number(process.env.INPUT_BYTES ?? 24);
const SELF = fileURLToPath(import.meta.url);

/** Pairs of established in-process quiche connections (client, server), packets carried by hand. */
async function connectionPairs(count: number): Promise<{ client: Connection; server: Connection }[]> {
  const serverConfig = buildServerConfig(await generateCertificate());
  const clientConfig = buildClientConfig();
  const clientHost = { host: '127.0.0.1', port: 1000 };
  const serverHost = { host: '127.0.0.1', port: 2000 };
  const toServer = { from: clientHost, to: serverHost };
  const toClient = { from: serverHost, to: clientHost };
  const buf = Buffer.alloc(1500);
  const pairs: { client: Connection; server: Connection }[] = [];
  for (let k = 0; k < count; k++) {
    const client = quiche.Connection.connect(
      'localhost',
      randomBytes(16),
      clientHost,
      serverHost,
      clientConfig,
    );
    let server: Connection | null = null;
    for (let round = 0; round < 20; round++) {
      let moved = false;
      for (let out = client.send(buf); out !== null; out = client.send(buf)) {
        moved = true;
        const packet = Buffer.from(buf.subarray(0, out[0]));
        if (server === null) {
          const header = quiche.Header.fromSlice(packet, 16);
          server = quiche.Connection.accept(
            randomBytes(16),
            header.dcid,
            serverHost,
            clientHost,
            serverConfig,
          );
        }
        server.recv(packet, toServer);
      }
      for (let out = server?.send(buf) ?? null; out !== null; out = server?.send(buf) ?? null) {
        moved = true;
        client.recv(Buffer.from(buf.subarray(0, out[0])), toClient);
      }
      if (!moved) break;
    }
    if (server === null || !client.isEstablished() || !server.isEstablished())
      throw new Error('in-process handshake did not complete');
    pairs.push({ client, server });
  }
  return pairs;
}

async function bindingFloor(): Promise<Record<string, unknown>> {
  const pairs = await connectionPairs(C);
  const clientHost = { host: '127.0.0.1', port: 1000 };
  const serverHost = { host: '127.0.0.1', port: 2000 };
  const toServer = { from: clientHost, to: serverHost };
  const toClient = { from: serverHost, to: clientHost };
  const buf = Buffer.alloc(1500);
  const state = Buffer.alloc(STATE_BYTES, 7);
  const input = Buffer.alloc(INPUT_BYTES, 3);
  const down: Buffer[] = new Array(C);
  const up: Buffer[] = new Array(C);
  const WARMUP = 20;
  const ROUNDS = 220;
  /** Time spent in each server call, when a tick is asked to time them one by one. */
  const callNs = new Map<string, bigint>();
  const since = (name: string, start: bigint): void => {
    callNs.set(name, (callNs.get(name) ?? 0n) + (process.hrtime.bigint() - start));
  };
  /** One tick for every client; returns the server's time. With `each`, every server call is timed too. */
  const tick = (each: boolean): bigint => {
    const now = process.hrtime.bigint;
    let serverNs = 0n;
    // Server: one state datagram out per client.
    let t = now();
    for (let k = 0; k < C; k++) {
      const s = pairs[k]!.server;
      let c = each ? now() : 0n;
      s.dgramSend(state);
      if (each) since('dgramSend', c);
      c = each ? now() : 0n;
      const out = s.send(buf);
      if (each) since('send_packet', c);
      if (out === null) throw new Error('quiche sent nothing');
      down[k] = Buffer.from(buf.subarray(0, out[0]));
      c = each ? now() : 0n;
      s.send(buf);
      if (each) since('send_null', c);
      c = each ? now() : 0n;
      s.timeout();
      if (each) since('timeout', c);
    }
    serverNs += now() - t;
    // Clients (not timed): take the state, send an input that carries their acknowledgement.
    for (let k = 0; k < C; k++) {
      const c = pairs[k]!.client;
      c.recv(down[k]!, toClient);
      while (c.dgramRecv(buf) !== null);
      c.dgramSend(input);
      const out = c.send(buf);
      if (out === null) throw new Error('quiche sent nothing');
      up[k] = Buffer.from(buf.subarray(0, out[0]));
      c.send(buf);
    }
    // Server: one input datagram in per client.
    t = now();
    for (let k = 0; k < C; k++) {
      const s = pairs[k]!.server;
      let c = each ? now() : 0n;
      s.recv(up[k]!, toServer);
      if (each) since('recv', c);
      c = each ? now() : 0n;
      s.dgramRecv(buf);
      if (each) since('dgramRecv', c);
      c = each ? now() : 0n;
      s.isReadable();
      if (each) since('isReadable', c);
    }
    return serverNs + (now() - t);
  };
  // The whole, with no timer around single calls; then each call on its own (each figure includes
  // about 0.05 µs of the timer itself).
  let serverNs = 0n;
  for (let round = 0; round < ROUNDS; round++) {
    const ns = tick(false);
    if (round >= WARMUP) serverNs += ns;
  }
  for (let round = 0; round < ROUNDS; round++) {
    if (round === WARMUP) callNs.clear();
    tick(true);
  }
  const perCallUs: Record<string, number> = {};
  for (const [name, ns] of callNs)
    perCallUs[name] = Number((Number(ns) / ((ROUNDS - WARMUP) * C) / 1000).toFixed(2));
  const perClientTick = Number(serverNs) / ((ROUNDS - WARMUP) * C);
  return {
    bench: 'quic-floor',
    part: 'binding',
    clients: C,
    hz: HZ,
    ns_per_client_tick: Math.round(perClientTick),
    server_cpu: Number(((perClientTick * C * HZ) / 1e9).toFixed(4)),
    per_call_us: perCallUs,
  };
}

/** The load side of `udp`: C sockets, each sending one input-sized packet per tick from a random phase. */
function udpClients(port: number): void {
  const input = Buffer.alloc(INPUT_BYTES + 40, 1);
  const sockets = Array.from({ length: C }, () => createSocket('udp4'));
  let bound = 0;
  for (const socket of sockets) {
    socket.on('message', () => {});
    socket.bind(0, '127.0.0.1', () => {
      if (++bound === C) process.send?.({ ports: sockets.map((s) => s.address().port) });
      setTimeout(
        () => setInterval(() => socket.send(input, port, '127.0.0.1'), 1000 / HZ),
        Math.random() * (1000 / HZ),
      );
    });
  }
  process.on('disconnect', () => process.exit(0));
}

async function udpFloor(): Promise<Record<string, number | string>> {
  const server = createSocket('udp4');
  let packetsIn = 0;
  server.on('message', () => {
    packetsIn++;
  });
  await new Promise<void>((resolve) => server.bind(0, '127.0.0.1', resolve));
  // As in the arena: this (the server) on CPU 0, the clients on CPU 1.
  const pin = canPin;
  if (pin) spawnSync('taskset', ['-pc', '0', String(process.pid)], { stdio: 'ignore' });
  const args = [...process.execArgv, SELF, 'udp-clients', String(server.address().port)];
  const child = pin
    ? spawn('taskset', ['-c', '1', process.execPath, ...args], {
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      })
    : spawn(process.execPath, args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const ports = await new Promise<number[]>((resolve) =>
    child.once('message', (m) => resolve((m as { ports: number[] }).ports)),
  );
  // Each state packet is a quiche packet's size: the datagram, its frame header and the packet's overhead.
  const state = Buffer.alloc(STATE_BYTES + 40, 2);
  const tick = setInterval(() => {
    for (const p of ports) server.send(state, 0, state.length, p, '127.0.0.1');
  }, 1000 / HZ);
  await new Promise((r) => setTimeout(r, 3000));
  const cpu0 = process.cpuUsage();
  const in0 = packetsIn;
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, SECONDS * 1000));
  const cpu = process.cpuUsage(cpu0);
  const wall = (performance.now() - t0) / 1000;
  clearInterval(tick);
  child.disconnect();
  child.kill();
  server.close();
  return {
    bench: 'quic-floor',
    part: 'udp',
    clients: C,
    hz: HZ,
    packets_in_per_s: Math.round((packetsIn - in0) / wall),
    packets_out_per_s: C * HZ,
    server_cpu: Number(((cpu.user + cpu.system) / 1e6 / wall).toFixed(4)),
    server_cpu_user: Number((cpu.user / 1e6 / wall).toFixed(4)),
    server_cpu_kernel: Number((cpu.system / 1e6 / wall).toFixed(4)),
    pinned: pin ? 1 : 0,
  };
}

if (process.argv[2] === 'udp-clients') {
  udpClients(Number(process.argv[3]));
} else {
  const binding = await bindingFloor();
  process.stdout.write(`${JSON.stringify(binding)}\n`);
  const udp = await udpFloor();
  process.stdout.write(`${JSON.stringify(udp)}\n`);
  const total = Number(binding.server_cpu) + Number(udp.server_cpu);
  process.stdout.write(
    `${JSON.stringify({ bench: 'quic-floor', summary: true, clients: C, server_cpu_floor: Number(total.toFixed(4)) })}\n`,
  );
}
