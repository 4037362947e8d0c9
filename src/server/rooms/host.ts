// The runner seam: how the control plane and sessions talk to a running room, wherever its code runs.

import type { PresenceMember, StateChange } from '../../codec/frames.js';
import type { Clock } from '../../shared/clock.js';
import type { Identity } from '../identity.js';
import type { Logger, Metrics } from '../metrics.js';
import type { AnyProtocol, LeaveReason, RoomClient, RoomDefinition } from './define.js';
import type { RoomMember } from './presence.js';

/** A session's end of one room membership. */
export interface MemberPort {
  /** Delivers an encoded room message to the member's client. */
  send(reliable: boolean, op: number, payload: Uint8Array): void;
  /** The room ended the membership (kick, dispose, expired window); the session tells the client. */
  ended(code: string, reason: string): void;
  /** Members who joined and left (a joining member first gets everyone, itself included). */
  presence(joins: PresenceMember[], leaves: string[]): void;
  /** Room key-value state changes; `reset` replaces the client's copy (sent to a joining member). */
  state(reset: boolean, changes: StateChange[]): void;
  /** The session's smoothed round-trip time in ms; undefined before the first measurement. */
  rtt?(): number | undefined;
}

/**
 * A running room, as seen from outside its code. The in-process runner implements it directly;
 * a worker-thread or child-process runner would forward these calls (all arguments are plain data
 * or bytes, except the port, which such a runner replaces with message passing).
 */
export interface RoomHost {
  readonly id: string;
  readonly type: string;
  readonly maxClients: number;
  readonly protocolHash: string;
  readonly disposed: boolean;
  /** Runs onAuth for a reserved seat; throws NetloomError `auth_refused` when refused. */
  authorize(seatId: string, joinData: unknown, expiresAt: number, identity?: Identity): Promise<void>;
  /** Seats the client holding a redeemed seat; runs onJoin. Throws `seat_invalid` for an unknown seat. */
  admit(seatId: string, sessionId: string, port: MemberPort): Promise<RoomClient<unknown>>;
  /** A room message from a member; throws NetloomError when the payload does not decode. */
  receive(clientId: string, op: number, payload: Uint8Array, reliable?: boolean): void;
  /**
   * Optional fast form of `receive` for the in-process runner: `client` is what `admit` returned (the room
   * finds its member from it without a lookup by id). Nothing happens once the client has left.
   */
  receiveFrom?(client: RoomClient<unknown>, op: number, payload: Uint8Array, reliable: boolean): void;
  /** The member's link is gone; returns the reconnection window granted in ms (0: it left). */
  drop(clientId: string): number;
  /** The member is back on a new link within its window. Returns false when it is no longer a member. */
  reconnect(clientId: string, port: MemberPort): boolean;
  /** The member leaves (consented, or its session ended). */
  leave(clientId: string, reason: LeaveReason): void;
  /** Seat ids of the members (dropped ones inside their window included). */
  seatIds(): string[];
  /** The members, in join order (what `room.members` gives room code). */
  memberList(): RoomMember[];
  /** The room's key-value state as JSON text by key. */
  stateJson(): Record<string, string>;
  /** Ends the room: members leave with `room_disposed`, or `room_lost` when the cluster gave it up. */
  dispose(reason?: 'disposed' | 'lost'): void;
}

/** What a runner needs to start a room. */
export interface RoomSpec {
  id: string;
  type: string;
  definition: RoomDefinition<AnyProtocol, unknown, unknown>;
  options: unknown;
  clock: Clock;
  /** The wall clock seat tokens expire on (ms since the epoch, as in the token). Default `Date.now`. */
  now?: () => number;
  log: Logger;
  metrics: Metrics;
  /** The room's tags, fixed at creation (default none). */
  tags?: Readonly<Record<string, string>>;
  /** Room code's `room.lock()` / `unlock()` / `setPrivate()`: the control plane updates the driver. */
  setListing?(change: { locked?: boolean; private?: boolean }): Promise<void>;
  /** Each batch of `room.state` changes (values as JSON text, null: removed), for a `sharedState` room. */
  onStateChanged?(changes: StateChange[]): void;
  /** Called when a seated member leaves, so the control plane frees its seat. */
  onSeatFreed(seatId: string): void;
  /** Called once after the room disposed. */
  onDisposed(): void;
}

/** Decides where a room's code runs. */
export interface RoomRunner {
  start(spec: RoomSpec): Promise<RoomHost>;
}
