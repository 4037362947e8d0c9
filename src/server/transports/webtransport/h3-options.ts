// The options, counters and close report of an HTTP/3 connection, and the HTTP/3 error codes it sends.
import type { ErrorCode } from '../../../codec/errors.js';
import type { ConnectPolicy } from './connect-request.js';
import type { WtSessionLimits } from './wt-session.js';

/** H3_NO_ERROR: an orderly connection close. */
export const H3_NO_ERROR = 0x100;

/** HTTP/3 application error codes sent when a NetloomError ends the connection. */
export const H3_CODES: Partial<Record<ErrorCode, number>> = {
  h3_stream_error: 0x104,
  h3_frame_unexpected: 0x105,
  h3_frame_error: 0x106,
  h3_settings_error: 0x109,
  h3_headers_too_large: 0x10e,
  capsule_error: 0x10e,
  qpack_error: 0x200,
};

export interface H3ConnectionOptions extends ConnectPolicy {
  /** Largest header list accepted (sum of name + value + 32 per field), and the HEADERS frame limit. Default 16,384. */
  maxHeaderListBytes?: number;
  /** Largest control frame (SETTINGS, GOAWAY, ...) collected. Default 16,384. */
  maxFrameBytes?: number;
  /** Server: WebTransport sessions at once on this connection; more are answered 429. Default 16. */
  maxSessions?: number;
  /** Streams that may wait for a session that is not established yet. Default 16. */
  maxPendingStreams?: number;
  /** Bytes those waiting streams may hold in total. Default 256 KiB. */
  maxPendingBytes?: number;
  /** Limits of every session. */
  session?: Partial<WtSessionLimits>;
  /** Server: close the connection this long after its last session ended (0: never). Default 1,000 ms. */
  idleCloseMs?: number;
}

export interface H3Stats {
  sessionsOpened: number;
  /** CONNECT requests answered with a 4xx or reset. */
  requestsRefused: number;
  datagramsDropped: number;
  /** Streams reset or discarded (over a limit, unknown session). */
  streamsRefused: number;
}

export interface H3CloseInfo {
  code: ErrorCode | 'normal';
  reason: string;
  local: boolean;
}
