// The token half of redeeming a seat: signature, expiry and node, the expected room, and binding the session's user.
import { NetloomError } from '../../codec/errors.js';
import type { Identity } from '../identity.js';
import { claimsIdentity, type SeatClaims, type SeatSigner } from '../seats.js';
import type { RedeemOptions } from './types.js';

/**
 * Verifies `token` (`seat_invalid`, `seat_forged`, `seat_expired`, `seat_wrong_node`), checks it is
 * for `options.expectedRoomId` (`seat_wrong_room`), and binds the holder's identity to the seat's
 * user (`forbidden` when the holder is another user). The driver's single-use check comes after.
 */
export function checkSeatToken(
  signer: SeatSigner,
  token: string,
  now: number,
  nodeId: string,
  options: RedeemOptions,
): { claims: SeatClaims; identity: Identity | undefined } {
  const claims = signer.verify(token, now, nodeId);
  if (options.expectedRoomId !== undefined && claims.r !== options.expectedRoomId) {
    throw new NetloomError('seat_wrong_room', `seat is for room ${claims.r}, not ${options.expectedRoomId}`);
  }
  const identity = claimsIdentity(claims);
  const holder = options.holder;
  if (holder && identity) {
    // Check and set in one synchronous step, so two concurrent joins cannot bind two users.
    if (holder.identity && holder.identity.userId !== identity.userId) {
      throw new NetloomError('forbidden', 'this session belongs to another user');
    }
    holder.identity ??= identity;
  }
  return { claims, identity };
}
