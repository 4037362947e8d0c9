// HTTP/3 SETTINGS (RFC 9114 §7.2.4) with the WebTransport and datagram settings: encode ours, parse the peer's.
import { NetloomError } from '../../../codec/errors.js';
import { encodeVarints, VarintCursor } from './varint.js';

export const SETTING_QPACK_MAX_TABLE_CAPACITY = 0x01;
export const SETTING_MAX_FIELD_SECTION_SIZE = 0x06;
export const SETTING_QPACK_BLOCKED_STREAMS = 0x07;
export const SETTING_ENABLE_CONNECT_PROTOCOL = 0x08;
/** RFC 9297 HTTP datagrams. */
export const SETTING_H3_DATAGRAM = 0x33;
/** draft-ietf-masque-h3-datagram-04 and earlier. */
export const SETTING_H3_DATAGRAM_DRAFT04 = 0xffd277;
/** WebTransport draft-02 (Chromium 156): ENABLE_WEBTRANSPORT. */
export const SETTING_ENABLE_WEBTRANSPORT = 0x2b603742;
/** WebTransport drafts 07 to 12: SETTINGS_WEBTRANSPORT_MAX_SESSIONS. */
export const SETTING_WEBTRANSPORT_MAX_SESSIONS_DRAFT07 = 0xc671706a;
/** WebTransport draft 13 and later: SETTINGS_WT_MAX_SESSIONS. */
export const SETTING_WT_MAX_SESSIONS = 0x14e9cd29;

/** HTTP/2 settings that HTTP/3 forbids (H3_SETTINGS_ERROR). */
const HTTP2_SETTINGS = new Set([0x00, 0x02, 0x03, 0x04, 0x05]);

export interface H3Settings {
  qpackMaxTableCapacity: number;
  qpackBlockedStreams: number;
  /** Largest header list the peer accepts (Infinity when unlimited). */
  maxFieldSectionSize: number;
  enableConnectProtocol: boolean;
  h3Datagram: boolean;
  enableWebTransport: boolean;
  /** The peer's WebTransport session limit: the newest of the WT_MAX_SESSIONS variants it sent, else 0. */
  wtMaxSessions: number;
}

/** The SETTINGS payload netloom sends: no dynamic table, extended CONNECT, datagrams, WebTransport. */
export function encodeOurSettings(maxSessions: number, maxFieldSectionSize: number): Uint8Array {
  return encodeVarints(
    SETTING_QPACK_MAX_TABLE_CAPACITY,
    0,
    SETTING_QPACK_BLOCKED_STREAMS,
    0,
    SETTING_MAX_FIELD_SECTION_SIZE,
    maxFieldSectionSize,
    SETTING_ENABLE_CONNECT_PROTOCOL,
    1,
    SETTING_H3_DATAGRAM,
    1,
    SETTING_ENABLE_WEBTRANSPORT,
    1,
    SETTING_WEBTRANSPORT_MAX_SESSIONS_DRAFT07,
    maxSessions,
    SETTING_WT_MAX_SESSIONS,
    maxSessions,
  );
}

/**
 * Parses a SETTINGS payload. Unknown and grease identifiers are ignored; a duplicate identifier or an
 * HTTP/2 one throws `h3_settings_error`, as does a truncated pair or a boolean setting above 1.
 */
export function parseSettings(payload: Uint8Array): H3Settings {
  const cursor = new VarintCursor(payload, 0, payload.length, 'h3_settings_error');
  const seen = new Set<number>();
  const out: H3Settings = {
    qpackMaxTableCapacity: 0,
    qpackBlockedStreams: 0,
    maxFieldSectionSize: Number.POSITIVE_INFINITY,
    enableConnectProtocol: false,
    h3Datagram: false,
    enableWebTransport: false,
    wtMaxSessions: 0,
  };
  let draft07Sessions = -1;
  let wtSessions = -1;
  const flag = (id: number, value: number): boolean => {
    if (value > 1) throw new NetloomError('h3_settings_error', `setting ${id} must be 0 or 1, got ${value}`);
    return value === 1;
  };
  while (cursor.remaining > 0) {
    const id = cursor.varint();
    const value = cursor.varint();
    if (seen.has(id)) throw new NetloomError('h3_settings_error', `duplicate setting ${id}`);
    seen.add(id);
    if (HTTP2_SETTINGS.has(id)) throw new NetloomError('h3_settings_error', `HTTP/2 setting ${id}`);
    switch (id) {
      case SETTING_QPACK_MAX_TABLE_CAPACITY:
        out.qpackMaxTableCapacity = value;
        break;
      case SETTING_QPACK_BLOCKED_STREAMS:
        out.qpackBlockedStreams = value;
        break;
      case SETTING_MAX_FIELD_SECTION_SIZE:
        out.maxFieldSectionSize = value;
        break;
      case SETTING_ENABLE_CONNECT_PROTOCOL:
        out.enableConnectProtocol = flag(id, value);
        break;
      case SETTING_H3_DATAGRAM:
      case SETTING_H3_DATAGRAM_DRAFT04:
        out.h3Datagram = out.h3Datagram || flag(id, value);
        break;
      case SETTING_ENABLE_WEBTRANSPORT:
        out.enableWebTransport = flag(id, value);
        break;
      case SETTING_WEBTRANSPORT_MAX_SESSIONS_DRAFT07:
        draft07Sessions = value;
        break;
      case SETTING_WT_MAX_SESSIONS:
        wtSessions = value;
        break;
      default:
        break; // unknown or grease: ignored
    }
  }
  out.wtMaxSessions = wtSessions >= 0 ? wtSessions : Math.max(draft07Sessions, 0);
  if (out.wtMaxSessions > 0) out.enableWebTransport = true;
  return out;
}
