// The WebSocket link's wire details, shared by the server and browser ends: channel tags, close codes, reasons.

/**
 * Every WebSocket message is binary: one tag byte naming the channel (0x00 reliable, 0x01 unreliable)
 * followed by the frame. A message shorter than two bytes, a text message or an unknown tag closes the
 * link with `frame_malformed`.
 */
export const WS_TAG_RELIABLE = 0x00;
export const WS_TAG_UNRELIABLE = 0x01;

/** WebSocket close code for an orderly close; every other close uses WS_CLOSE_ERROR with reason `code: text`. */
export const WS_CLOSE_NORMAL = 1000;
export const WS_CLOSE_ERROR = 4000;
/** A WebSocket close reason holds at most 123 UTF-8 bytes. */
export const WS_MAX_CLOSE_REASON_BYTES = 123;

const encoder = new TextEncoder();

/** Truncates `text` to at most `maxBytes` UTF-8 bytes without splitting a character. */
export function truncateUtf8(text: string, maxBytes = WS_MAX_CLOSE_REASON_BYTES): string {
  if (text.length * 3 <= maxBytes || encoder.encode(text).byteLength <= maxBytes) return text;
  let out = '';
  let bytes = 0;
  for (const ch of text) {
    const n = encoder.encode(ch).byteLength;
    if (bytes + n > maxBytes) break;
    out += ch;
    bytes += n;
  }
  return out;
}

/** The close reason sent to the peer: `code` alone, or `code: reason`, cut to 123 bytes. */
export function wsCloseReason(code: string, reason: string): string {
  return truncateUtf8(reason ? `${code}: ${reason}` : code, WS_MAX_CLOSE_REASON_BYTES);
}
