// Seat tokens: HMAC-SHA256-signed, expiring, single-use tickets that let one client into one room.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { NetloomError } from '../codec/errors.js';
import type { Identity, Json } from './identity.js';

/** Longest token accepted: a 2 KiB identity plus the other claims, base64url, fit with room to spare. */
export const MAX_SEAT_TOKEN_CHARS = 4_000;

/** What a seat token says. Short keys keep the token small. */
export interface SeatClaims {
  /** Room id. */
  r: string;
  /** Room type. */
  t: string;
  /** Seat id, unique; a driver redeems each once. */
  s: string;
  /** Node that owns the room. */
  n: string;
  /** Expiry, ms since the epoch. */
  e: number;
  /** User id, when the seat was reserved for an authenticated user. */
  u?: string;
  /** The user's identity data (with `u`). */
  d?: { [key: string]: Json };
}

/** The identity a seat token carries, if any. */
export function claimsIdentity(claims: SeatClaims): Identity | undefined {
  return claims.u === undefined ? undefined : { userId: claims.u, data: claims.d ?? {} };
}

/** Signs and verifies seat tokens with one secret (HMAC-SHA256, base64url). */
export class SeatSigner {
  private readonly secret: Buffer;
  constructor(secret: string | Uint8Array) {
    this.secret = typeof secret === 'string' ? Buffer.from(secret, 'utf8') : Buffer.from(secret);
    if (this.secret.length < 16)
      throw new NetloomError('request_invalid', 'seat secret must be at least 16 bytes');
  }

  sign(claims: SeatClaims): string {
    const body = Buffer.from(JSON.stringify(claims), 'utf8').toString('base64url');
    return `${body}.${this.mac(body).toString('base64url')}`;
  }

  /**
   * Verifies a token's form, signature, expiry and node. Throws `seat_invalid` (not a token),
   * `seat_forged` (bad signature), `seat_expired` or `seat_wrong_node`. Single use is the driver's job.
   */
  verify(token: string, now: number, nodeId: string): SeatClaims {
    const dot = token.indexOf('.');
    if (dot <= 0 || dot !== token.lastIndexOf('.') || token.length > MAX_SEAT_TOKEN_CHARS) {
      throw new NetloomError('seat_invalid', 'not a seat token');
    }
    const body = token.slice(0, dot);
    const given = Buffer.from(token.slice(dot + 1), 'base64url');
    const expected = this.mac(body);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      throw new NetloomError('seat_forged', 'seat token signature does not match');
    }
    let claims: SeatClaims;
    try {
      claims = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as SeatClaims;
    } catch {
      throw new NetloomError('seat_invalid', 'seat token body is not JSON');
    }
    if (
      typeof claims !== 'object' ||
      claims === null ||
      typeof claims.r !== 'string' ||
      typeof claims.t !== 'string' ||
      typeof claims.s !== 'string' ||
      typeof claims.n !== 'string' ||
      typeof claims.e !== 'number' ||
      (claims.u !== undefined && typeof claims.u !== 'string') ||
      (claims.d !== undefined &&
        (typeof claims.d !== 'object' || claims.d === null || Array.isArray(claims.d)))
    ) {
      throw new NetloomError('seat_invalid', 'seat token claims are incomplete');
    }
    if (claims.e <= now) throw new NetloomError('seat_expired', 'seat token has expired');
    if (claims.n !== nodeId) throw new NetloomError('seat_wrong_node', `seat is for node ${claims.n}`);
    return claims;
  }

  private mac(body: string): Buffer {
    return createHmac('sha256', this.secret).update(body).digest();
  }
}

/** A random id, URL-safe, `bytes` of entropy. */
export function randomId(bytes = 12): string {
  return randomBytes(bytes).toString('base64url');
}
