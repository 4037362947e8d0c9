// Who a request or session belongs to: the identity `authenticate` returns and seat tokens carry.
import type { FastifyRequest } from 'fastify';
import { NetloomError } from '../codec/errors.js';

/** JSON-compatible data (what identities, room tags and state values may hold). */
export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

/** An authenticated user: a stable id plus whatever the game needs (name, roles, ...). */
export interface Identity {
  userId: string;
  /** JSON data; carried inside seat tokens, so keep it small (at most 2 KiB as JSON). */
  data: { [key: string]: Json };
}

/**
 * Decides who made an HTTP request (headers, cookies, bearer token). Return the identity to accept,
 * `null` to refuse with 401 `auth_required`, or throw a NetloomError (e.g. `auth_invalid`) to refuse
 * with its code. Any other error thrown (a JWT library's "expired" or "bad signature") is refused as
 * 401 `auth_invalid`.
 */
export type Authenticate = (request: FastifyRequest) => Identity | null | Promise<Identity | null>;

/** Largest identity, as JSON (it travels in every seat token). */
export const MAX_IDENTITY_BYTES = 2_048;
/** Longest user id, in characters. */
export const MAX_USER_ID_CHARS = 256;

/**
 * Checks that `value` is an Identity small enough for a seat token and returns a plain copy.
 * Throws NetloomError `auth_invalid` otherwise (a bad identity is a failed authentication).
 */
export function checkIdentity(value: unknown, maxBytes = MAX_IDENTITY_BYTES): Identity {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new NetloomError('auth_invalid', 'identity must be an object { userId, data }');
  }
  const { userId, data } = value as { userId?: unknown; data?: unknown };
  if (typeof userId !== 'string' || userId.length === 0 || userId.length > MAX_USER_ID_CHARS) {
    throw new NetloomError(
      'auth_invalid',
      `identity.userId must be a string of 1..${MAX_USER_ID_CHARS} chars`,
    );
  }
  if (data !== undefined && (typeof data !== 'object' || data === null || Array.isArray(data))) {
    throw new NetloomError('auth_invalid', 'identity.data must be an object');
  }
  let json: string;
  try {
    json = JSON.stringify({ userId, data: data ?? {} });
  } catch {
    throw new NetloomError('auth_invalid', 'identity is not JSON-serialisable');
  }
  if (Buffer.byteLength(json, 'utf8') > maxBytes) {
    throw new NetloomError('auth_invalid', `identity exceeds ${maxBytes} bytes as JSON`);
  }
  return JSON.parse(json) as Identity;
}

/**
 * Runs an `authenticate` option on a request: the checked identity, or undefined when none is
 * configured (anonymous play). Refusals become NetloomError `auth_required` (null returned) or
 * `auth_invalid` (anything thrown that is not a NetloomError, or a malformed identity).
 */
export async function runAuthenticate(
  authenticate: Authenticate | undefined,
  request: FastifyRequest,
): Promise<Identity | undefined> {
  if (!authenticate) return undefined;
  let identity: Identity | null;
  try {
    identity = await authenticate(request);
  } catch (err) {
    if (err instanceof NetloomError) throw err;
    throw new NetloomError('auth_invalid', err instanceof Error ? err.message : 'credentials refused', {
      cause: err,
    });
  }
  if (identity === null || identity === undefined) {
    throw new NetloomError('auth_required', 'this request needs credentials');
  }
  return checkIdentity(identity);
}
