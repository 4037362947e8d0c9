// Options of the netloom server plugin and the shape of its in-process API (`app.netloom`).

import type { FrameLimits } from '../codec/frames.js';
import type { Clock } from '../shared/clock.js';
import type { SeatReservation } from './control.js';
import type { Driver, RoomRecord } from './drivers/driver.js';
import type { Authenticate, Identity } from './identity.js';
import type { AnyProtocol, RoomDefinition } from './rooms/define.js';
import type { RoomRunner } from './rooms/host.js';
import type { WebSocketServerLinkOptions } from './transports/websocket.js';

/** Any room definition, whatever its protocol, data and client data types. */
export type AnyRoomDefinition = RoomDefinition<AnyProtocol, unknown, unknown>;

export interface NetloomOptions {
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
    pingIntervalMs?: number;
    idleTimeoutMs?: number;
    emptySessionMs?: number;
    /** Resend buffer bound per session (default 1 MiB). */
    maxBufferBytes?: number;
    frameLimits?: Partial<FrameLimits>;
  };
  websocket?: WebSocketServerLinkOptions;
  /** Largest JSON body of a join request, joinData included (default 16,384 bytes). */
  maxJoinBodyBytes?: number;
  /**
   * Who is asking: runs on every control-plane request (join, create, matchmake, RPC over HTTP).
   * Absent: everyone plays anonymously.
   */
  authenticate?: Authenticate;
}

/** A seat reservation plus where to connect. */
export interface JoinTicket extends SeatReservation {
  transports: { websocket: string };
}

/** netloom's in-process API, also reachable as `app.netloom`. */
export interface NetloomServerApi {
  readonly nodeId: string;
  rooms: {
    create(type: string, options?: unknown): Promise<RoomRecord>;
    joinOrCreate(type: string, joinData?: unknown): Promise<JoinTicket>;
    get(roomId: string): Promise<RoomRecord | null>;
    list(type?: string): Promise<RoomRecord[]>;
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
  /** Counters: frames, sessions, rooms, errors by code (`errors{code}`), tick overruns. */
  metrics(): Record<string, number>;
}
