// Types of the client's API: join tickets, client options (transports, reconnection, WebRTC, WebTransport), join options and events.
import type { AnyEndpoints } from '../codec/endpoints.js';
import type { NetloomError } from '../codec/errors.js';
import type { Link, TransportName } from '../link/link.js';
import type { SessionCoreOptions } from '../session/core.js';
import type { Clock } from '../shared/clock.js';
import type { IceServer } from '../signaling/messages.js';
import type { ReconnectOptions, TransportChange } from './connection.js';
import type { AnyNotices, PushEvents } from './push.js';
import type { JsonValue } from './rooms-api.js';
import type { ClientPeerOptions } from './transports/webrtc.js';
import type { WebSocketConstructor } from './transports/websocket.js';
import type { WebTransportConstructorLike } from './transports/webtransport.js';
import type { UpgradeEvent, UpgradeOptions, UpgradePeer } from './upgrade.js';

/** What the control plane answers to a join request. */
export interface JoinTicket {
  roomId: string;
  roomType: string;
  seat: string;
  expiresAt: number;
  /** In a cluster: the base URL of the node that runs the room; `transports` are relative to it. */
  url?: string;
  /**
   * Where to connect: the WebSocket path; `webrtc` when the server offers it (with ICE servers for the
   * client); `webtransport` when it offers WebTransport: its UDP port and path on the same host (or a
   * full `url`), and the SHA-256 hashes (hex) of its certificates, for `serverCertificateHashes`.
   */
  transports: {
    websocket: string;
    webrtc?: { iceServers: IceServer[] };
    webtransport?: { port: number; path: string; url?: string; certificateHashes: string[] };
  };
}

/** `ClientOptions.webtransport`: the client's WebTransport sessions. */
export interface ClientWebTransportOptions {
  /** Default `globalThis.WebTransport`; in Node, a compatible class (netloom's Node client). */
  WebTransport?: WebTransportConstructorLike;
}

/** `ClientOptions.webrtc`: the client's WebRTC peers. */
export interface ClientWebRtcOptions extends Omit<ClientPeerOptions, 'iceServers'> {
  /** Makes the peer of an upgrade instead of `createClientPeer` (tests, or another WebRTC stack). */
  createPeer?: (iceServers: IceServer[]) => UpgradePeer;
}

export interface ClientOptions<E extends AnyEndpoints = AnyEndpoints, N extends AnyNotices = AnyNotices> {
  /** The RPC endpoints shared with the server (`defineEndpoints`): types and encodes `client.call`. */
  endpoints?: E;
  /** The server's notices protocol (`defineProtocol`): types and decodes pushes for `client.on(type, fn)`. */
  notices?: N;
  /** Default time a `client.call` waits for its answer before `rpc_timeout` (default 10,000 ms). */
  rpcTimeoutMs?: number;
  /** WebSocket constructor; defaults to `globalThis.WebSocket`. On Node 20 pass `WebSocket` from the `ws` package. */
  WebSocket?: WebSocketConstructor;
  /** fetch implementation (default `globalThis.fetch`). */
  fetch?: typeof fetch;
  /** URL prefix of the server's netloom routes (default `/netloom`). */
  prefix?: string;
  /** Headers sent with control-plane requests (e.g. an Authorization bearer token). */
  headers?: Record<string, string>;
  reconnect?: Partial<ReconnectOptions>;
  /** Time allowed for opening a link and completing the handshake (default 5,000 ms). */
  connectTimeoutMs?: number;
  /** Session tuning (resend buffer bound, ack cadence). */
  session?: Partial<
    Pick<SessionCoreOptions, 'maxBufferBytes' | 'ackEveryFrames' | 'ackDelayMs' | 'pingIntervalMs'>
  >;
  clock?: Clock;
  /**
   * Wraps every link the client opens, e.g. `(link) => conditionLink(link, { latencyMs: 80, loss: 0.05 })`
   * from `netloom/client` to try a game under bad network conditions, or to kill links in tests.
   */
  wrapLink?: (link: Link) => Link;
  /**
   * Transports in order of preference (default `['webtransport', 'webrtc', 'websocket']`). The client
   * connects over WebSocket first, then upgrades to the first one listed before `websocket` that the
   * server offers and this runtime has (a browser without RTCPeerConnection stays on WebSocket).
   * `['websocket']` never upgrades. WebTransport is not built yet and is skipped.
   */
  transports?: TransportName[];
  /** WebRTC peers: in Node pass `RTCPeerConnection` (werift's, adapted); browsers use their own. */
  webrtc?: ClientWebRtcOptions;
  /** The client's WebTransport sessions (used when the server offers WebTransport). */
  webtransport?: ClientWebTransportOptions;
  /** Upgrade timing: `timeoutMs` (default 10 s) and retry backoff `retryBaseMs` (1 s) doubling to `retryMaxMs` (30 s). */
  upgrade?: Partial<Omit<UpgradeOptions, 'transports'>>;
}

export interface JoinOptions<P> {
  /** The protocol shared with the server's room type. */
  protocol: P;
  /** joinOrCreate: only rooms with these tags match, and a room created gets them. */
  tags?: Record<string, string>;
}

/** `client.create(type, joinData, options)`: the new room's settings. */
export interface CreateOptions<P> extends JoinOptions<P> {
  /** Not listed nor matched by joinOrCreate; share `room.id` so friends join by id. */
  private?: boolean;
  /** JSON metadata shown in room lists. */
  data?: JsonValue;
  /** Passed to the room's onCreate. */
  options?: JsonValue;
}

/** Events of the Client itself (room events are on each Room). */
export type ClientEvents<N = unknown> = {
  /** A server's notice: `code` is a stable code (e.g. `message_rate_exceeded`, `server_shutdown`). */
  notice: { code: string; message: string };
  /** A push from the server that could not be decoded with the notices protocol. */
  error: NetloomError;
  /** The transport of a server session changed (`{ transport, previous }`); rooms emit it too. */
  transport: TransportChange;
  /** A transport upgrade attempt ended: `upgraded`, or `failed` / `lost` with a code and the retry delay. */
  upgrade: UpgradeEvent;
} & PushEvents<N>;
