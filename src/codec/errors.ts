// NetloomError: the one error type of netloom, with a stable machine-readable code.

/** Every stable error code netloom raises. Codes never change meaning once published. */
export const ERROR_CODES = [
  // codec: bytes that do not decode
  'frame_empty',
  'frame_truncated',
  'frame_too_large',
  'frame_trailing_bytes',
  'frame_malformed',
  'unknown_frame_kind',
  'unknown_op',
  'payload_invalid',
  'payload_too_deep',
  'list_too_long',
  'string_too_long',
  'encode_invalid',
  'protocol_invalid',
  'protocol_mismatch',
  // session
  'handshake_required',
  'handshake_timeout',
  'handshake_invalid',
  'version_unsupported',
  'session_unknown',
  'session_expired',
  'session_replaced',
  'sequence_invalid',
  'buffer_overflow',
  'slow_consumer',
  'idle_timeout',
  'link_closed',
  'link_error',
  'message_too_large',
  // seats and rooms
  'seat_invalid',
  'seat_forged',
  'seat_expired',
  'seat_used',
  'seat_wrong_node',
  'room_not_found',
  'room_full',
  'room_locked',
  'room_type_unknown',
  'room_disposed',
  'room_lost',
  'handle_in_use',
  'handle_unknown',
  'auth_refused',
  'kicked',
  'server_shutdown',
  'transport_unavailable',
  'request_invalid',
  'internal_error',
  'driver_unavailable',
  'node_unavailable',
  // control plane: auth, rooms API, limits
  'auth_required',
  'auth_invalid',
  'forbidden',
  'seat_wrong_room',
  'room_private',
  'room_limit',
  'match_ended',
  'rate_limited',
  'message_rate_exceeded',
  // matchmaker
  'ticket_invalid',
  'ticket_not_found',
  'ticket_cancelled',
  'ticket_timeout',
  'ticket_limit',
  // RPC endpoints and session data
  'endpoint_unknown',
  'requirement_failed',
  'rpc_timeout',
  'rpc_failed',
  'session_data_invalid',
  // signaling and transport upgrades
  'signal_invalid',
  'signal_unexpected',
  'signal_peer_unknown',
  'signal_rate_exceeded',
  'sdp_too_large',
  'candidate_limit',
  'upgrade_failed',
  'upgrade_timeout',
  'peer_closed',
  // WebRTC peers
  'sdp_invalid',
  'candidate_invalid',
  'peer_timeout',
  // peer-assisted rooms (member-to-member traffic)
  'peers_disabled',
  'peer_unknown',
  'peer_type_refused',
  'peer_rate_exceeded',
  'peer_relay_cap',
  'peer_mesh_refused',
  // QUIC endpoint (WebTransport)
  'quic_error',
  'quic_closed',
  'datagram_too_large',
  'certificate_invalid',
  // HTTP/3 and WebTransport sessions
  'h3_frame_error',
  'h3_frame_unexpected',
  'h3_settings_error',
  'h3_stream_error',
  'h3_headers_too_large',
  'qpack_error',
  'capsule_error',
  'wt_session_refused',
  'wt_stream_limit',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

const KNOWN_CODES: ReadonlySet<string> = new Set(ERROR_CODES);

/** True when `code` is one of netloom's stable codes (useful when a code arrives from the network). */
export function isErrorCode(code: string): code is ErrorCode {
  return KNOWN_CODES.has(code);
}

/** An error with a stable `code`; its message is for humans and may change. */
export class NetloomError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'NetloomError';
    this.code = code;
  }
}

/** Narrows an unknown thrown value to a NetloomError, wrapping anything else as `internal_error`. */
export function toNetloomError(err: unknown): NetloomError {
  if (err instanceof NetloomError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new NetloomError('internal_error', message, { cause: err });
}
