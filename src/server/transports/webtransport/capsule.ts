// The capsule protocol (RFC 9297) on a WebTransport CONNECT stream: close and drain capsules, others skipped.
import { NetloomError } from '../../../codec/errors.js';
import { TlvParser } from './tlv.js';
import { varintSize, writeVarint } from './varint.js';

export const CAPSULE_CLOSE_WEBTRANSPORT_SESSION = 0x2843;
export const CAPSULE_DRAIN_WEBTRANSPORT_SESSION = 0x78ae;
/** The close message is at most this many bytes of UTF-8 (WebTransport over HTTP/3). */
export const MAX_CLOSE_MESSAGE_BYTES = 1024;

export type Capsule = { type: 'close'; code: number; reason: string } | { type: 'drain' };

const utf8 = new TextDecoder('utf-8', { fatal: false });
const encoder = new TextEncoder();

/**
 * Parses the capsules in the DATA of a CONNECT stream. Unknown capsule types (including DATAGRAM
 * capsules) are skipped without buffering; a known capsule over its size limit or malformed throws
 * `capsule_error`.
 */
export class CapsuleParser {
  private readonly parser: TlvParser;

  constructor(oncapsule: (capsule: Capsule) => void) {
    this.parser = new TlvParser(
      {
        begin: (type) =>
          type === CAPSULE_CLOSE_WEBTRANSPORT_SESSION || type === CAPSULE_DRAIN_WEBTRANSPORT_SESSION
            ? 'buffer'
            : 'skip',
        element: (type, payload) => {
          if (type === CAPSULE_DRAIN_WEBTRANSPORT_SESSION) {
            oncapsule({ type: 'drain' });
            return;
          }
          if (payload.length < 4)
            throw new NetloomError('capsule_error', 'close capsule shorter than 4 bytes');
          const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
          oncapsule({ type: 'close', code: view.getUint32(0), reason: utf8.decode(payload.subarray(4)) });
        },
        piece: () => {},
        detached: () => {},
      },
      4 + MAX_CLOSE_MESSAGE_BYTES,
      'capsule_error',
    );
  }

  get idle(): boolean {
    return this.parser.idle;
  }

  push(bytes: Uint8Array): void {
    this.parser.push(bytes);
  }
}

/** Cuts `text` to at most `maxBytes` of UTF-8 without splitting a character. */
export function truncateUtf8Bytes(text: string, maxBytes: number): Uint8Array {
  const bytes = encoder.encode(text);
  if (bytes.length <= maxBytes) return bytes;
  let end = maxBytes;
  while (end > 0 && (bytes[end] & 0xc0) === 0x80) end--;
  return bytes.subarray(0, end);
}

/** Encodes a CLOSE_WEBTRANSPORT_SESSION capsule (the code is a u32; the reason is cut to 1,024 bytes). */
export function encodeCloseCapsule(code: number, reason: string): Uint8Array {
  const message = truncateUtf8Bytes(reason, MAX_CLOSE_MESSAGE_BYTES);
  const length = 4 + message.length;
  const out = new Uint8Array(varintSize(CAPSULE_CLOSE_WEBTRANSPORT_SESSION) + varintSize(length) + length);
  let o = writeVarint(out, 0, CAPSULE_CLOSE_WEBTRANSPORT_SESSION);
  o = writeVarint(out, o, length);
  new DataView(out.buffer).setUint32(o, code >>> 0);
  out.set(message, o + 4);
  return out;
}

/** Encodes a DRAIN_WEBTRANSPORT_SESSION capsule. */
export function encodeDrainCapsule(): Uint8Array {
  const out = new Uint8Array(varintSize(CAPSULE_DRAIN_WEBTRANSPORT_SESSION) + 1);
  writeVarint(out, 0, CAPSULE_DRAIN_WEBTRANSPORT_SESSION);
  return out;
}
