// The control plane's seat path: reserving a seat in a given room, running onAuth and signing it, redeeming it.
import { NetloomError } from '../../codec/errors.js';
import { checkIdentity, type Identity } from '../identity.js';
import type { RoomClient } from '../rooms/define.js';
import type { MemberPort, RoomHost } from '../rooms/host.js';
import type { EndedRooms } from '../rooms/tombstones.js';
import { randomId } from '../seats.js';
import { checkTtl } from './room-meta.js';
import { checkSeatToken } from './seat-token.js';
import type { ControlPlaneDeps, RedeemOptions, ReserveOptions, SeatReservation } from './types.js';

/** What the seat path reads from the ControlPlane that owns the rooms. */
export interface SeatContext {
  deps: Pick<ControlPlaneDeps, 'driver' | 'signer' | 'nodeId' | 'now' | 'seatTtlMs'>;
  /** Ended matches (refused with `match_ended`). */
  ended: EndedRooms;
  /** The room running here under `roomId`, unless it is gone or disposing. */
  live(roomId: string): RoomHost | undefined;
}

/** A redeemed seat: the client is now a member of `room`. */
export interface RedeemedSeat {
  room: RoomHost;
  clientId: string;
  /** The client object the room made (the session hands it back with each message: `RoomHost.receiveFrom`). */
  client: RoomClient<unknown>;
  roomType: string;
  identity: Identity | undefined;
}

/**
 * Runs onAuth of a room on this node for a seat already reserved in the driver, then signs the
 * seat token; a refusal frees the seat.
 */
export async function authorizeSeat(
  ctx: SeatContext,
  roomId: string,
  type: string,
  seatId: string,
  expiresAt: number,
  joinData: unknown,
  identity: Identity | undefined,
): Promise<SeatReservation> {
  const host = ctx.live(roomId);
  try {
    if (!host) throw new NetloomError('room_not_found', `no room ${roomId} on this node`);
    await host.authorize(seatId, joinData, expiresAt, identity);
    // onAuth may take its time: a room that was disposed meanwhile gives out no seat (any RoomHost).
    if (host.disposed) throw new NetloomError('room_disposed', 'room was disposed');
  } catch (err) {
    await ctx.deps.driver.releaseSeat(roomId, seatId);
    throw err;
  }
  const seat = ctx.deps.signer.sign({
    r: roomId,
    t: type,
    s: seatId,
    n: ctx.deps.nodeId,
    e: expiresAt,
    ...(identity ? { u: identity.userId, d: identity.data } : {}),
  });
  return { roomId, roomType: type, seat, expiresAt };
}

/** Reserves a seat in a given room on this node (private rooms too), then authorizes it. */
export async function reserveSeat(
  ctx: SeatContext,
  roomId: string,
  reserve: ReserveOptions,
): Promise<SeatReservation> {
  const identity = reserve.identity === undefined ? undefined : checkIdentity(reserve.identity);
  const ttlMs = checkTtl(reserve.ttlMs, ctx.deps.seatTtlMs);
  const host = ctx.live(roomId);
  if (ctx.ended.has(roomId)) throw new NetloomError('match_ended', `match ${roomId} has ended`);
  if (!host) throw new NetloomError('room_not_found', `no room ${roomId} on this node`);
  const seatId = randomId();
  const expiresAt = ctx.deps.now() + ttlMs;
  const result = await ctx.deps.driver.reserveSeat(roomId, seatId, expiresAt, ctx.deps.now());
  if (result === 'full') throw new NetloomError('room_full', 'room is full');
  if (result === 'locked') throw new NetloomError('room_locked', 'room is locked');
  if (result === 'not_found') throw new NetloomError('room_not_found', `no room ${roomId}`);
  return authorizeSeat(ctx, roomId, host.type, seatId, expiresAt, reserve.joinData, identity);
}

/** Verifies a seat token, redeems it once and admits the session (refusals: see ControlPlane.redeem). */
export async function redeemSeat(
  ctx: SeatContext,
  token: string,
  sessionId: string,
  port: MemberPort,
  options: RedeemOptions,
): Promise<RedeemedSeat> {
  const { claims, identity } = checkSeatToken(
    ctx.deps.signer,
    token,
    ctx.deps.now(),
    ctx.deps.nodeId,
    options,
  );
  const host = ctx.live(claims.r);
  if (ctx.ended.has(claims.r)) throw new NetloomError('match_ended', 'the match of this seat has ended');
  if (!host) throw new NetloomError('room_not_found', 'the room of this seat is gone');
  const result = await ctx.deps.driver.redeemSeat(claims.r, claims.s, ctx.deps.now());
  if (result === 'used') throw new NetloomError('seat_used', 'seat token was already used');
  if (result === 'expired') throw new NetloomError('seat_expired', 'seat reservation has lapsed');
  if (result === 'not_found') throw new NetloomError('room_not_found', 'the room of this seat is gone');
  let client: RoomClient<unknown>;
  try {
    client = await host.admit(claims.s, sessionId, port);
  } catch (err) {
    await ctx.deps.driver.releaseSeat(claims.r, claims.s);
    throw err;
  }
  return { room: host, clientId: client.id, client, roomType: host.type, identity };
}
