// QPACK (RFC 9204) without a dynamic table: a strict decoder (static table, Huffman) and an encoder for our header blocks.
import { NetloomError } from '../../../codec/errors.js';
import { huffmanDecode } from './huffman.js';

export interface HeaderField {
  name: string;
  value: string;
}

/** RFC 9204 Appendix A: the static table, indexed from 0. Entries without a value have ''. */
export const STATIC_TABLE: ReadonlyArray<readonly [string, string]> = [
  [':authority', ''],
  [':path', '/'],
  ['age', '0'],
  ['content-disposition', ''],
  ['content-length', '0'],
  ['cookie', ''],
  ['date', ''],
  ['etag', ''],
  ['if-modified-since', ''],
  ['if-none-match', ''],
  ['last-modified', ''],
  ['link', ''],
  ['location', ''],
  ['referer', ''],
  ['set-cookie', ''],
  [':method', 'CONNECT'],
  [':method', 'DELETE'],
  [':method', 'GET'],
  [':method', 'HEAD'],
  [':method', 'OPTIONS'],
  [':method', 'POST'],
  [':method', 'PUT'],
  [':scheme', 'http'],
  [':scheme', 'https'],
  [':status', '103'],
  [':status', '200'],
  [':status', '304'],
  [':status', '404'],
  [':status', '503'],
  ['accept', '*/*'],
  ['accept', 'application/dns-message'],
  ['accept-encoding', 'gzip, deflate, br'],
  ['accept-ranges', 'bytes'],
  ['access-control-allow-headers', 'cache-control'],
  ['access-control-allow-headers', 'content-type'],
  ['access-control-allow-origin', '*'],
  ['cache-control', 'max-age=0'],
  ['cache-control', 'max-age=2592000'],
  ['cache-control', 'max-age=604800'],
  ['cache-control', 'no-cache'],
  ['cache-control', 'no-store'],
  ['cache-control', 'public, max-age=31536000'],
  ['content-encoding', 'br'],
  ['content-encoding', 'gzip'],
  ['content-type', 'application/dns-message'],
  ['content-type', 'application/javascript'],
  ['content-type', 'application/json'],
  ['content-type', 'application/x-www-form-urlencoded'],
  ['content-type', 'image/gif'],
  ['content-type', 'image/jpeg'],
  ['content-type', 'image/png'],
  ['content-type', 'text/css'],
  ['content-type', 'text/html; charset=utf-8'],
  ['content-type', 'text/plain'],
  ['content-type', 'text/plain;charset=utf-8'],
  ['range', 'bytes=0-'],
  ['strict-transport-security', 'max-age=31536000'],
  ['strict-transport-security', 'max-age=31536000; includesubdomains'],
  ['strict-transport-security', 'max-age=31536000; includesubdomains; preload'],
  ['vary', 'accept-encoding'],
  ['vary', 'origin'],
  ['x-content-type-options', 'nosniff'],
  ['x-xss-protection', '1; mode=block'],
  [':status', '100'],
  [':status', '204'],
  [':status', '206'],
  [':status', '302'],
  [':status', '400'],
  [':status', '403'],
  [':status', '421'],
  [':status', '425'],
  [':status', '500'],
  ['accept-language', ''],
  ['access-control-allow-credentials', 'FALSE'],
  ['access-control-allow-credentials', 'TRUE'],
  ['access-control-allow-headers', '*'],
  ['access-control-allow-methods', 'get'],
  ['access-control-allow-methods', 'get, post, options'],
  ['access-control-allow-methods', 'options'],
  ['access-control-expose-headers', 'content-length'],
  ['access-control-request-headers', 'content-type'],
  ['access-control-request-method', 'get'],
  ['access-control-request-method', 'post'],
  ['alt-svc', 'clear'],
  ['authorization', ''],
  ['content-security-policy', "script-src 'none'; object-src 'none'; base-uri 'none'"],
  ['early-data', '1'],
  ['expect-ct', ''],
  ['forwarded', ''],
  ['if-range', ''],
  ['origin', ''],
  ['purpose', 'prefetch'],
  ['server', ''],
  ['timing-allow-origin', '*'],
  ['upgrade-insecure-requests', '1'],
  ['user-agent', ''],
  ['x-forwarded-for', ''],
  ['x-frame-options', 'deny'],
  ['x-frame-options', 'sameorigin'],
];

/** Default limit on a decoded header list: the sum of name + value + 32 bytes per field (RFC 9114 §4.2.2). */
export const DEFAULT_MAX_HEADER_LIST_BYTES = 16_384;
/** Integers above this are refused (no legitimate index or length comes near it). */
const MAX_INTEGER = 2 ** 32;

const exactIndex = new Map<string, number>();
const nameIndex = new Map<string, number>();
STATIC_TABLE.forEach(([name, value], i) => {
  const key = `${name}\0${value}`;
  if (!exactIndex.has(key)) exactIndex.set(key, i);
  if (!nameIndex.has(name)) nameIndex.set(name, i);
});

class Reader {
  offset = 0;
  constructor(readonly bytes: Uint8Array) {}

  /** An integer with an N-bit prefix (RFC 7541 §5.1); refuses truncated and overlong encodings. */
  integer(prefixBits: number): number {
    const bytes = this.bytes;
    if (this.offset >= bytes.length) throw new NetloomError('qpack_error', 'truncated integer');
    const max = (1 << prefixBits) - 1;
    let value = bytes[this.offset++] & max;
    if (value < max) return value;
    let scale = 1;
    for (;;) {
      if (this.offset >= bytes.length) throw new NetloomError('qpack_error', 'truncated integer');
      const byte = bytes[this.offset++];
      value += (byte & 0x7f) * scale;
      scale *= 128;
      if (value > MAX_INTEGER) throw new NetloomError('qpack_error', 'integer too large');
      if ((byte & 0x80) === 0) return value;
    }
  }

  /** A string literal whose Huffman flag is bit `prefixBits` of the first byte and length the N-bit prefix. */
  string(prefixBits: number, maxBytes: number): string {
    if (this.offset >= this.bytes.length) throw new NetloomError('qpack_error', 'truncated string');
    const huffman = (this.bytes[this.offset] >> prefixBits) & 1;
    const length = this.integer(prefixBits);
    if (length > this.bytes.length - this.offset) throw new NetloomError('qpack_error', 'truncated string');
    if (length > maxBytes) throw new NetloomError('h3_headers_too_large', `header string of ${length} bytes`);
    let raw = this.bytes.subarray(this.offset, this.offset + length);
    this.offset += length;
    if (huffman === 1) raw = huffmanDecode(raw, maxBytes);
    return latin1(raw);
  }
}

function latin1(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; i += 4096) {
    out += String.fromCharCode.apply(null, Array.from(bytes.subarray(i, i + 4096)));
  }
  return out;
}

function staticEntry(index: number): readonly [string, string] {
  const entry = STATIC_TABLE[index];
  if (entry === undefined) throw new NetloomError('qpack_error', `static index ${index} out of range`);
  return entry;
}

/**
 * Decodes a field section (the payload of a HEADERS frame). Any reference to the dynamic table (a
 * non-zero Required Insert Count, a dynamic or post-base index) throws `qpack_error`, as do truncated
 * input, overlong integers and bad Huffman strings; a header list over `maxHeaderListBytes` throws
 * `h3_headers_too_large`.
 */
export function decodeFieldSection(
  block: Uint8Array,
  maxHeaderListBytes = DEFAULT_MAX_HEADER_LIST_BYTES,
): HeaderField[] {
  const r = new Reader(block);
  if (r.integer(8) !== 0)
    throw new NetloomError('qpack_error', 'dynamic table reference (Required Insert Count)');
  r.integer(7); // Delta Base: meaningless without dynamic references
  const fields: HeaderField[] = [];
  let size = 0;
  while (r.offset < block.length) {
    const first = block[r.offset];
    let name: string;
    let value: string;
    if (first & 0x80) {
      if ((first & 0x40) === 0) throw new NetloomError('qpack_error', 'dynamic table reference (indexed)');
      [name, value] = staticEntry(r.integer(6));
    } else if (first & 0x40) {
      if ((first & 0x10) === 0) throw new NetloomError('qpack_error', 'dynamic table reference (name)');
      name = staticEntry(r.integer(4))[0];
      value = r.string(7, maxHeaderListBytes);
    } else if (first & 0x20) {
      name = r.string(3, maxHeaderListBytes);
      value = r.string(7, maxHeaderListBytes);
    } else {
      throw new NetloomError('qpack_error', 'dynamic table reference (post-base)');
    }
    size += name.length + value.length + 32;
    if (size > maxHeaderListBytes)
      throw new NetloomError('h3_headers_too_large', `header list over ${maxHeaderListBytes} bytes`);
    fields.push({ name, value });
  }
  return fields;
}

function pushInteger(out: number[], flags: number, prefixBits: number, value: number): void {
  const max = (1 << prefixBits) - 1;
  if (value < max) {
    out.push(flags | value);
    return;
  }
  out.push(flags | max);
  let rest = value - max;
  while (rest >= 128) {
    out.push((rest % 128) | 0x80);
    rest = Math.floor(rest / 128);
  }
  out.push(rest);
}

function pushString(out: number[], flags: number, prefixBits: number, text: string): void {
  const bytes = new TextEncoder().encode(text);
  pushInteger(out, flags, prefixBits, bytes.length);
  for (const b of bytes) out.push(b);
}

/** Encodes a field section with static-table references and plain (non-Huffman) literals only. */
export function encodeFieldSection(fields: readonly HeaderField[]): Uint8Array {
  const out: number[] = [0x00, 0x00];
  for (const { name, value } of fields) {
    const exact = exactIndex.get(`${name}\0${value}`);
    if (exact !== undefined) {
      pushInteger(out, 0xc0, 6, exact);
      continue;
    }
    const byName = nameIndex.get(name);
    if (byName !== undefined) {
      pushInteger(out, 0x50, 4, byName);
    } else {
      pushString(out, 0x20, 3, name);
    }
    pushString(out, 0x00, 7, value);
  }
  return Uint8Array.from(out);
}
