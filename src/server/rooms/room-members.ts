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
