// Who a request or session belongs to: the identity `authenticate` returns and seat tokens carry.
import type { FastifyRequest } from 'fastify';

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
 * with its code.
 */
export type Authenticate = (request: FastifyRequest) => Identity | null | Promise<Identity | null>;
