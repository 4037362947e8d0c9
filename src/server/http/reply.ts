// Turns errors into HTTP replies: one status per stable error code, a JSON body `{ code, message }`.
import type { FastifyReply } from 'fastify';
import { type ErrorCode, NetloomError } from '../../codec/errors.js';
import type { Logger, Metrics } from '../metrics.js';

/** HTTP status for each code a route can answer with; anything else is a 500. */
export const STATUS_BY_CODE: Partial<Record<ErrorCode, number>> = {
  request_invalid: 400,
  ticket_invalid: 400,
  session_data_invalid: 400,
  auth_required: 401,
  auth_invalid: 401,
  auth_refused: 403,
  forbidden: 403,
  requirement_failed: 403,
  room_private: 403,
  room_type_unknown: 404,
  room_not_found: 404,
  ticket_not_found: 404,
  endpoint_unknown: 404,
  room_full: 409,
  room_locked: 409,
  match_ended: 410,
  room_lost: 410,
  ticket_cancelled: 410,
  ticket_timeout: 408,
  room_limit: 429,
  ticket_limit: 429,
  rate_limited: 429,
  server_shutdown: 503,
  driver_unavailable: 503,
  node_unavailable: 503,
  // RPC: request bytes that fail the codec's checks are the caller's fault
  frame_truncated: 400,
  frame_trailing_bytes: 400,
  frame_too_large: 413,
  payload_invalid: 400,
  payload_too_deep: 400,
  list_too_long: 400,
  string_too_long: 400,
  session_unknown: 404,
  message_too_large: 413,
  rpc_timeout: 504,
  rpc_failed: 500,
};

/** Sends `{ code, message }` with the code's status; unknown errors become a logged 500 `internal_error`. */
export function sendError(reply: FastifyReply, err: unknown, log: Logger, metrics: Metrics): FastifyReply {
  const e = err instanceof NetloomError ? err : new NetloomError('internal_error', 'internal error');
  if (e.code === 'internal_error') log.error({ err }, 'netloom request failed');
  metrics.error(e.code);
  return reply.code(STATUS_BY_CODE[e.code] ?? 500).send({ code: e.code, message: e.message });
}
