// The peers benchmark's server process: netloom on 127.0.0.1 with a full-mesh peers room and a relay-only one, metrics on request over IPC.
import type { AddressInfo } from 'node:net';
import { createServer, defineRoom, type PeerRoomOptions } from '../../src/server/index.js';
import {
  MESH_ROOM,
  peersBenchProtocol,
  RELAY_ROOM,
  type ServerCommand,
  type ServerReply,
} from './protocol.js';

function reply(message: ServerReply): void {
  process.send?.(message);
}

async function main(): Promise<void> {
  if (!process.send) throw new Error('bench/peers/server.ts runs as a forked child of bench/peers.ts');
  // Default peer policy and session limits (a game's configuration), except the link timings when the
  // benchmark passes PING_MS / IDLE_MS.
  const timings: PeerRoomOptions = {};
  if (process.env.PING_MS) timings.pingIntervalMs = Number(process.env.PING_MS);
  if (process.env.IDLE_MS) timings.idleTimeoutMs = Number(process.env.IDLE_MS);
  const mesh = defineRoom({
    protocol: peersBenchProtocol,
    maxClients: 16,
    peers: { ...timings, maxMesh: 8 },
  });
  const relay = defineRoom({
    protocol: peersBenchProtocol,
    maxClients: 16,
    peers: { ...timings, maxMesh: 0 },
  });
  const app = await createServer({
    rooms: { [MESH_ROOM]: mesh, [RELAY_ROOM]: relay },
    webrtc: { enabled: false },
    joinRatePerIp: false,
    logger: false,
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  let stopping = false;
  const stop = async (): Promise<void> => {
    if (stopping) return;
    stopping = true;
    await app.close();
    process.exit(0);
  };
  process.on('message', (raw) => {
    const command = raw as ServerCommand;
    if (command.cmd === 'metrics')
      reply({ event: 'metrics', id: command.id, metrics: app.netloom.metrics() });
    else if (command.cmd === 'stop') void stop();
  });
  process.on('SIGTERM', () => void stop());
  process.on('disconnect', () => void stop()); // the benchmark went away
  reply({ event: 'ready', port: (app.server.address() as AddressInfo).port });
}

main().catch((err: unknown) => {
  process.stderr.write(
    `bench/peers/server: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
  );
  process.exit(1);
});
