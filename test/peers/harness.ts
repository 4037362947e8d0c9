// Test harness for peer-assisted rooms: a server with a peers room on loopback, and Node clients with werift peer connections whose instances a test can reach.
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { Client, ClientOptions, Room } from '../../src/client/index.js';
import { weriftPeerConnection } from '../../src/client/node-webrtc.js';
import { defineProtocol, p } from '../../src/codec/index.js';
import { createServer, defineRoom, type PeerRoomOptions } from '../../src/server/index.js';
import { nodeClient, until } from '../helpers/netloom.js';

export const peerProtocol = defineProtocol({
  client: { hello: p.object({}) },
  server: { note: p.object({ text: p.string() }) },
  peer: {
    seq: p.object({ n: p.varuint() }),
    pos: p.object({ x: p.float32(), y: p.float32() }),
    chat: p.object({ text: p.string() }),
  },
});

export type PeerProtocol = typeof peerProtocol;
export type PeerRoom = Room<PeerProtocol>;

export interface PeerServer {
  app: FastifyInstance;
  url: string;
  port: number;
  close(): Promise<void>;
}

/** A server with one room type `mesh` (peers on, with `peers` options), WebRTC to the server off. */
export async function startPeerServer(
  peers: PeerRoomOptions = {},
  extra: { maxClients?: number; sessionLimits?: Record<string, number> } = {},
): Promise<PeerServer> {
  const mesh = defineRoom({
    protocol: peerProtocol,
    maxClients: extra.maxClients ?? 16,
    peers,
    reconnectionMs: 5_000,
  });
  const plain = defineRoom({ protocol: peerProtocol, maxClients: 16 });
  const app = await createServer({
    rooms: { mesh, plain },
    webrtc: { enabled: false },
    joinRatePerIp: false,
    session: { limits: extra.sessionLimits ?? { messagesPerSecond: 0 } },
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const port = (app.server.address() as AddressInfo).port;
  return { app, url: `http://127.0.0.1:${port}`, port, close: () => app.close() };
}

/** Tracks every werift RTCPeerConnection a client makes, so a test can kill one. */
export interface TrackedRtc {
  made: Array<{ close(): unknown; connectionState: string }>;
  /** The configuration each peer connection was made with. */
  configs?: Array<{ iceServers: unknown[] }>;
  /** Every datachannel made, so a test can make them drop everything silently (`mute`). */
  channels?: Array<{ send(data: unknown): void }>;
}

/** Makes every datachannel of `rtc` drop what it is given, as a dead network would (no close, no error). */
export function mute(rtc: TrackedRtc): void {
  for (const channel of rtc.channels ?? []) channel.send = () => {};
}

/** A Node client whose direct links use werift on 127.0.0.1 (host candidates only, no STUN). */
export function peerClient(
  url: string,
  tracked: TrackedRtc | null = { made: [] },
  options: ClientOptions = {},
): Client {
  if (tracked === null) return nodeClient(url, options);
  const rtc = tracked;
  const Base = weriftPeerConnection();
  class Tracked extends Base {
    constructor(configuration: ConstructorParameters<typeof Base>[0]) {
      super(configuration);
      rtc.made.push(this as unknown as TrackedRtc['made'][number]);
      rtc.configs ??= [];
      rtc.configs.push({ iceServers: [...configuration.iceServers] });
    }

    override createDataChannel(...args: Parameters<InstanceType<typeof Base>['createDataChannel']>) {
      const channel = super.createDataChannel(...args);
      rtc.channels ??= [];
      rtc.channels.push(channel as unknown as { send(data: unknown): void });
      return channel;
    }
  }
  return nodeClient(url, { ...options, webrtc: { RTCPeerConnection: Tracked } });
}

/** Joins `count` clients into one `type` room; returns the clients and rooms in join order. */
export async function joinPeers(
  url: string,
  count: number,
  options: { type?: string; rtc?: boolean; client?: (i: number) => ClientOptions } = {},
): Promise<{ clients: Client[]; rooms: PeerRoom[]; rtcs: TrackedRtc[] }> {
  const clients: Client[] = [];
  const rooms: PeerRoom[] = [];
  const rtcs: TrackedRtc[] = [];
  let roomId = '';
  for (let i = 0; i < count; i++) {
    const rtc: TrackedRtc = { made: [] };
    const client = peerClient(url, options.rtc === false ? null : rtc, options.client?.(i));
    const room = roomId
      ? await client.joinById(roomId, {}, { protocol: peerProtocol })
      : await client.create(options.type ?? 'mesh', {}, { protocol: peerProtocol });
    roomId = room.id;
    clients.push(client);
    rooms.push(room);
    rtcs.push(rtc);
  }
  await until(
    () => rooms.every((r) => r.peers.list().length === count - 1),
    5_000,
    'peers to learn each other',
  );
  return { clients, rooms, rtcs };
}

/** Resolves once every pair of `rooms` is on `path`. */
export async function allOn(rooms: PeerRoom[], path: 'direct' | 'relay', timeoutMs = 10_000): Promise<void> {
  await until(
    () => rooms.every((r) => r.peers.list().every((peer) => peer.path === path)),
    timeoutMs,
    `every pair ${path}`,
  );
}
