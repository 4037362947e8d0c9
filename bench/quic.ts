// QUIC layer benchmark: Node<->Node datagram RTT on loopback and server CPU per UDP packet under load; JSON lines.
// Env: PINGS (default 2000), CLIENTS (default 32), INFLIGHT per client (default 8), SECONDS (default 3).
// The echo server runs in a child process so its CPU time is measured alone.
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { connectQuic } from '../src/server/transports/webtransport/client.js';
import { QuicEndpoint } from '../src/server/transports/webtransport/endpoint.js';

const PINGS = Number(process.env.PINGS ?? 2000);
const CLIENTS = Number(process.env.CLIENTS ?? 32);
const INFLIGHT = Number(process.env.INFLIGHT ?? 8);
const SECONDS = Number(process.env.SECONDS ?? 3);

type Msg = { port: number } | { cpuUs: number; packetsIn: number; packetsOut: number; datagrams: number };

async function serve(): Promise<void> {
  const ep = await QuicEndpoint.listen({});
  let datagrams = 0;
  ep.onconnection = (c) => {
    c.ondatagram = (d) => {
      datagrams++;
      c.sendDatagram(d);
    };
  };
  let mark = { cpu: process.cpuUsage(), st: ep.stats(), datagrams: 0 };
  process.on('message', (m: string) => {
    if (m === 'mark') mark = { cpu: process.cpuUsage(), st: ep.stats(), datagrams };
    if (m === 'report') {
      const cpu = process.cpuUsage(mark.cpu);
      const st = ep.stats();
      process.send?.({
        cpuUs: cpu.user + cpu.system,
        packetsIn: st.packetsIn - mark.st.packetsIn,
        packetsOut: st.packetsOut - mark.st.packetsOut,
        datagrams: datagrams - mark.datagrams,
      } satisfies Msg);
    }
    if (m === 'stop') void ep.close().then(() => process.exit(0));
  });
  process.send?.({ port: ep.address.port } satisfies Msg);
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function main(): Promise<void> {
  const child = fork(fileURLToPath(import.meta.url), ['serve'], { execArgv: ['--import', 'tsx'] });
  const next = (): Promise<Msg> => new Promise((resolve) => child.once('message', (m) => resolve(m as Msg)));
  const first = await next();
  if (!('port' in first)) throw new Error('server did not start');
  const port = first.port;

  // 1. RTT: one datagram in flight.
  const c = await connectQuic({ host: '127.0.0.1', port });
  const rtts: number[] = [];
  const payload = new Uint8Array(100);
  for (let i = 0; i < PINGS; i++) {
    const t0 = performance.now();
    const back = new Promise<void>((resolve) => {
      c.ondatagram = () => resolve();
    });
    c.sendDatagram(payload);
    await back;
    rtts.push(performance.now() - t0);
  }
  rtts.sort((a, b) => a - b);
  const r = (v: number) => Math.round(v * 1000) / 1000;
  console.log(
    JSON.stringify({
      bench: 'quic',
      measure: 'datagram_rtt',
      pings: PINGS,
      p50_ms: r(percentile(rtts, 50)),
      p99_ms: r(percentile(rtts, 99)),
      min_ms: r(rtts[0]!),
    }),
  );
  c.close(0, 'done');

  // 2. Load: CLIENTS connections, INFLIGHT datagrams each, echoed for SECONDS.
  const clients = await Promise.all(
    Array.from({ length: CLIENTS }, () => connectQuic({ host: '127.0.0.1', port })),
  );
  let running = true;
  let echoed = 0;
  for (const cl of clients) {
    cl.ondatagram = (d) => {
      echoed++;
      if (running) cl.sendDatagram(d);
    };
  }
  child.send('mark');
  await new Promise((res) => setTimeout(res, 50));
  for (const cl of clients) for (let i = 0; i < INFLIGHT; i++) cl.sendDatagram(new Uint8Array(200));
  await new Promise((res) => setTimeout(res, SECONDS * 1000));
  running = false;
  child.send('report');
  const rep = await next();
  if (!('cpuUs' in rep)) throw new Error('no report');
  const packets = rep.packetsIn + rep.packetsOut;
  console.log(
    JSON.stringify({
      bench: 'quic',
      measure: 'server_cpu_per_packet',
      clients: CLIENTS,
      inflight: INFLIGHT,
      seconds: SECONDS,
      datagrams_echoed: rep.datagrams,
      udp_packets_in: rep.packetsIn,
      udp_packets_out: rep.packetsOut,
      server_cpu_ms: Math.round(rep.cpuUs / 1000),
      us_per_udp_packet: Math.round((rep.cpuUs / packets) * 100) / 100,
      us_per_datagram_echoed: Math.round((rep.cpuUs / Math.max(1, rep.datagrams)) * 100) / 100,
      client_side_echoes: echoed,
    }),
  );
  for (const cl of clients) cl.close(0, 'done');
  child.send('stop');
}

if (process.argv[2] === 'serve') void serve();
else void main();
