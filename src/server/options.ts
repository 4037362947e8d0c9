// Options of the netloom server plugin and the shape of its in-process API (`app.netloom`).

import type { FrameLimits } from '../codec/frames.js';
import type { Clock } from '../shared/clock.js';
import type { ClusterOptions } from './cluster/node.js';
import type { NodeRecord } from './cluster/types.js';
import type { RoomMetadataLimits } from './control/room-meta.js';
import type { CreateRoomOptions, JoinOrCreateOptions, SeatReservation } from './control.js';
import type { Driver, RoomFilter, RoomRecord } from './drivers/driver.js';
import type { NetloomExtensionOptions, NetloomExtensionsApi } from './extensions.js';
import type { OpsOptions } from './http/ops.js';
import type { Authenticate, Identity, Json } from './identity.js';
import type { LifecycleHooks, LifecycleHooksApi, ShutdownOptions, ShutdownReport } from './lifecycle.js';
import type { MatchmakerApi, MatchmakerOptions } from './matchmaker/types.js';
import type { MessageHooksApi } from './middleware.js';
import type { AnyProtocol, RoomDefinition } from './rooms/define.js';
import type { RoomRunner } from './rooms/host.js';
import type { RoomMember } from './rooms/presence.js';
import type { EndedRoomsOptions } from './rooms/tombstones.js';
import type { ClientLimits } from './session/limits.js';
import type { WebRtcOptions, WebRtcTicket } from './transports/webrtc/service.js';
import type { WebSocketServerLinkOptions } from './transports/websocket.js';
import type {
  WebTransportServerOptions,
  WebTransportService,
  WebTransportTicket,
} from './transports/webtransport/service.js';

/** Any room definition, whatever its protocol, data and client data types. */
export type AnyRoomDefinition = RoomDefinition<AnyProtocol, unknown, unknown>;

export interface NetloomOptions extends NetloomExtensionOptions {
  /** Room types this server runs, by name. */
  rooms: Record<string, AnyRoomDefinition>;
  /** Shared control-plane state (default: `memoryDriver()`, the embedded single-node driver). */
  driver?: Driver;
  /** URL prefix of netloom's routes (default `/netloom`). */
  prefix?: string;
  /** Secret for seat tokens, ≥ 16 bytes (default: random per process; set it when several nodes share seats). */
  seatSecret?: string | Uint8Array;
  /** Lifetime of a seat reservation (default 30,000 ms). */
  seatTtlMs?: number;
  /** This node's id (default random). */
  nodeId?: string;
  /** Where room code runs (default: in this process). */
  runner?: RoomRunner;
  /** Monotonic clock for ticks and timeouts (default: the system clock). */
  clock?: Clock;
  /** Wall clock for seat expiry, ms since the epoch (default `Date.now`). */
  now?: () => number;
  session?: {
    handshakeTimeoutMs?: number;
    /**
     * Interval of the server's own PINGs, which measure each session's round-trip time for room code
     * (`room.rttOf(client)`, `relayedRoom({ host: 'rtt' })`); default 5,000 ms, 0 turns them off.
     */
    rttProbeMs?: number;
    pingIntervalMs?: number;
    idleTimeoutMs?: number;
    emptySessionMs?: number;
    /** Resend buffer bound per session (default 1 MiB). */
    maxBufferBytes?: number;
    frameLimits?: Partial<FrameLimits>;
    /** Per-client message size and rate (defaults: 16 KiB, 120 messages/s with bursts of 240; see ClientLimits). */
    limits?: Partial<ClientLimits>;
  };
  websocket?: WebSocketServerLinkOptions;
  /**
   * WebRTC: clients that connected over WebSocket upgrade their session to datachannels to this
   * server's (ICE-lite, werift) peers. On by default; `{ enabled: false }` turns it off. Options: the
   * announced addresses, UDP port range, ICE servers handed to clients, timeouts and signaling limits.
   */
  webrtc?: WebRtcOptions;
  /**
   * WebTransport (HTTP/3 over QUIC on one UDP port): clients that have it upgrade to it before
   * WebRTC. Off by default (`{ enabled: true, port }` turns it on; open that UDP port). A generated
   * short-lived certificate's hash is published in join tickets for `serverCertificateHashes`.
   */
  webtransport?: WebTransportServerOptions;
  /** Largest JSON body of a join request, joinData included (default 16,384 bytes). */
  maxJoinBodyBytes?: number;
  /**
   * Who is asking: runs on every control-plane request (join, create, matchmake, RPC over HTTP).
   * Absent: everyone plays anonymously.
   */
  authenticate?: Authenticate;
  /** Lifecycle hooks: `bootstrap` (before listening; throwing aborts the start), `onStarted`, `onShutdown`. */
  hooks?: LifecycleHooks;
  /** Bound on a graceful shutdown, hooks and room disposal included (default 10,000 ms). */
  shutdownTimeoutMs?: number;
  /**
   * Shut down gracefully on SIGTERM and SIGINT (or the signals listed), then exit the process
   * (default false: your code decides; call `app.netloom.shutdown()`).
   */
  handleSignals?: boolean | NodeJS.Signals[];
  /** Paths of `/healthz` and `/metrics` (default at the root, outside the prefix; `false` removes a route). */
  ops?: OpsOptions;
  /**
   * Who may lock, unlock and destroy rooms over HTTP (default: nobody, 403 `forbidden`). Gets the
   * identity `authenticate` returned (undefined when anonymous). The SDK (`app.netloom.rooms`) is not checked.
   */
  isAdmin?(identity: Identity | undefined): boolean | Promise<boolean>;
  /** Most rooms of one type at once (default 1,000); past it creating fails with `room_limit`. */
  maxRoomsPerType?: number;
  /** Bounds on room tags and data (defaults: 16 tags, 128 chars per key/value, 4,096 bytes of data JSON). */
  roomMetadata?: Partial<RoomMetadataLimits>;
  /**
   * Ended relayed matches (rooms with `tombstone: true`) whose ids are still refused with
   * `match_ended` (defaults: 10,000 ids, for one hour; later, or past the bound, `room_not_found`).
   */
  endedRooms?: Partial<EndedRoomsOptions>;
  /**
   * Rate of room create/join/join-or-create requests per client IP (default 20/s, burst 40); over
   * it: 429 `rate_limited`. `false` turns it off (e.g. behind your own limiter, or in benchmarks).
   */
  joinRatePerIp?: { perSecond?: number; burst?: number } | false;
  /**
   * How this node joins a cluster, when the driver spans processes (`redisDriver`): its public URL,
   * capacity, tags and heartbeat timing (see ClusterOptions). Ignored with `memoryDriver()`.
   */
  cluster?: ClusterOptions;
  /** Matchmaker: pass interval, ticket timeout and limits, range widening (see MatchmakerOptions). */
  matchmaker?: MatchmakerOptions;
}

/** A seat reservation plus where to connect. */
export interface JoinTicket extends SeatReservation {
  /** In a cluster: the public base URL of the node that runs the room (its transports are relative to it). */
  url?: string;
  /**
   * The WebSocket path; `webrtc` (with the ICE servers clients should use) and `webtransport` (port,
   * path, certificate hashes) when the server offers them.
   */
  transports: { websocket: string; webrtc?: WebRtcTicket; webtransport?: WebTransportTicket };
}

/** netloom's in-process API, also reachable as `app.netloom`. */
export interface NetloomServerApi extends NetloomExtensionsApi {
  readonly nodeId: string;
  rooms: {
    /** Creates a room (no seat): `options` reach onCreate; tags and data show in lists. */
    create(type: string, options?: CreateRoomOptions): Promise<RoomRecord>;
    /** A seat in the oldest matching public room with space, or in a new room with `tags`. */
    joinOrCreate(type: string, options?: JoinOrCreateOptions): Promise<JoinTicket>;
    /** A room by id (private ones too), or null. */
    get(roomId: string): Promise<RoomRecord | null>;
    /** Public rooms, filtered by type and tags (every given tag must match), oldest first. */
    list(filter?: RoomFilter): Promise<RoomRecord[]>;
    lock(roomId: string): Promise<RoomRecord>;
    unlock(roomId: string): Promise<RoomRecord>;
    setPrivate(roomId: string, flag: boolean): Promise<RoomRecord>;
    /** Disposes the room: its clients leave with code `room_disposed`. */
    destroy(roomId: string): Promise<void>;
    /** True when the room was lost with a dead node of the cluster (its id then answers `room_lost`). */
    lost(roomId: string): Promise<boolean>;
    /** A room's members (asked of the node that runs it, in a cluster); null for an unknown room. */
    members(roomId: string): Promise<RoomMember[] | null>;
    /** A room's key-value state (from the node that runs it, in a cluster); null for an unknown room. */
    state(roomId: string): Promise<Record<string, Json> | null>;
    types(): string[];
  };
  seats: {
    /** Reserves a seat; `identity` is who will take it (its userId goes into the seat token). */
    reserve(
      roomId: string,
      options?: { joinData?: unknown; ttlMs?: number; identity?: Identity },
    ): Promise<JoinTicket>;
  };
  sessions: { count(): number };
  /** This node's view of its cluster; null on a single node (a driver without `cluster`). */
  cluster: {
    readonly nodeId: string;
    /** This node's public base URL ('' until it listens). */
    publicUrl(): string;
    /** Live nodes with their load, room types and endpoints. */
    nodes(): Promise<NodeRecord[]>;
    /**
     * Resolves once this node registered with the cluster, which happens just after it starts
     * listening (`app.listen()` may resolve a moment before); rejects when that failed.
     */
    ready(): Promise<void>;
  } | null;
  /** The WebTransport service when enabled (its ticket entry, frame counters, and `close()` to stop UDP). */
  webtransport: WebTransportService | null;
  /**
   * Adds lifecycle hooks (bootstrap, onStarted, onShutdown) after the server was made, and
   * middleware on room messages (onMessage from clients, onSend to clients).
   */
  hooks: LifecycleHooksApi & MessageHooksApi;
  /**
   * Graceful shutdown: new joins refused (`server_shutdown`), onShutdown hooks run, every client is
   * sent a `server_shutdown` notice then closed, rooms run onDispose, then the Fastify app closes.
   * Ends within `timeoutMs` (default 10 s) even when a hook hangs.
   */
  shutdown(options?: ShutdownOptions): Promise<ShutdownReport>;
  /** Matchmaking tickets: submit, wait for, cancel (the same as the HTTP routes, in process). */
  matchmaker: MatchmakerApi;
  /**
   * Counters and gauges as a plain object of folded names: `sessions`, `rooms` (total) and
   * `rooms{type}`, `messages_in{reliable}` … `bytes_out{unreliable}`, `errors{code}`,
   * `tick_overruns{type}`, and more. The same numbers are served in Prometheus text at `/metrics`.
   */
  metrics(): Record<string, number>;
}
