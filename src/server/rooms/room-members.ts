// What a room keeps per member and per pending seat, and the leave code each way of leaving gives the client.
import type { TimerHandle } from '../../shared/clock.js';
import type { Identity } from '../identity.js';
import type { LeaveReason, RoomClient } from './define.js';
import type { MemberPort } from './host.js';

/** What a room keeps per member: its client, seat, way to its session and reconnection window. */
export interface Member {
  client: RoomClient<unknown> & { state: 'joined' | 'dropped' };
  seatId: string;
  port: MemberPort;
  reconnectMs: number;
  reconnectTimer: TimerHandle | null;
}

/**
 * The member record of a client object the room made, kept on the client under a symbol so that
 * `receiveFrom` needs no lookup by id; cleared when the member leaves.
 */
export const MEMBER_OF: unique symbol = Symbol('netloom.member');

/** A client object as the room made it: with its member record while it is a member. */
export type LinkedClient = RoomClient<unknown> & { [MEMBER_OF]?: Member | undefined };

/** A seat reserved (onAuth passed) and not yet taken. */
export interface PendingSeat {
  data: unknown;
  joinData: unknown;
  identity: Identity | undefined;
  expiresAt: number;
  timer: TimerHandle;
}

/** The code a member's client is told for each way of leaving. */
export const LEAVE_CODES: Record<LeaveReason, string> = {
  consented: 'normal',
  dropped: 'link_closed',
  reconnection_expired: 'session_expired',
  kicked: 'kicked',
  disposed: 'room_disposed',
  lost: 'room_lost',
  session_ended: 'normal',
};
