// Bounds-checked byte reader and growable writer: the primitives every netloom decoder and encoder uses.
import { NetloomError } from './errors.js';

const textDecoder = new TextDecoder('utf-8', { fatal: true });
const textEncoder = new TextEncoder();

/**
 * Reads from a byte range without ever reading past its end: every read that would
 * cross `end` throws `frame_truncated`, so hostile input cannot make a decoder run wild.
 */
export class ByteReader {
  offset: number;
  readonly end: number;
  constructor(
    readonly bytes: Uint8Array,
    offset = 0,
    end = bytes.length,
  ) {
    this.offset = offset;
    this.end = end;
  }

  get remaining(): number {
    return this.end - this.offset;
  }

  /** Throws `frame_truncated` unless `n` more bytes are available. */
  need(n: number): void {
    if (n > this.end - this.offset) {
      throw new NetloomError('frame_truncated', `needed ${n} more byte(s), ${this.end - this.offset} left`);
    }
  }

  u8(): number {
    this.need(1);
    return this.bytes[this.offset++];
  }

  u16(): number {
    this.need(2);
    const b = this.bytes;
    const v = b[this.offset] | (b[this.offset + 1] << 8);
    this.offset += 2;
    return v;
  }

  /**
   * Unsigned LEB128 up to 2^53 - 1 (at most 8 bytes). Overlong encodings beyond 8 bytes
   * are refused with `frame_malformed`.
   */
  varuint(): number {
    let result = 0;
    let scale = 1;
    for (let i = 0; i < 8; i++) {
      const byte = this.u8();
      result += (byte & 0x7f) * scale;
      if ((byte & 0x80) === 0) {
        // 8 groups hold 56 bits; above 2^53 - 1 a number is no longer exact, so such values are refused.
        if (result > Number.MAX_SAFE_INTEGER)
          throw new NetloomError('frame_malformed', 'varuint above 2^53 - 1');
        return result;
      }
      scale *= 128;
    }
    throw new NetloomError('frame_malformed', 'varuint longer than 8 bytes');
  }

  /** `n` raw bytes as a view (no copy). */
  bytesView(n: number): Uint8Array {
    this.need(n);
    const view = this.bytes.subarray(this.offset, this.offset + n);
    this.offset += n;
    return view;
  }

  /** A varuint byte length, then that many UTF-8 bytes; refuses lengths over `maxBytes`. */
  string(maxBytes: number): string {
    const n = this.varuint();
    if (n > maxBytes) throw new NetloomError('string_too_long', `string of ${n} bytes exceeds ${maxBytes}`);
    const view = this.bytesView(n);
    try {
      return textDecoder.decode(view);
    } catch {
      throw new NetloomError('frame_malformed', 'string is not valid UTF-8');
    }
  }

  /** The rest of the range as a view (no copy). */
  rest(): Uint8Array {
    const view = this.bytes.subarray(this.offset, this.end);
    this.offset = this.end;
    return view;
  }

  /** Throws `frame_trailing_bytes` if anything is left. */
  done(): void {
    if (this.offset !== this.end) {
      throw new NetloomError('frame_trailing_bytes', `${this.end - this.offset} unexpected trailing byte(s)`);
    }
  }
}

/** A growable byte writer; `finish()` returns a view of exactly the written bytes. */
export class ByteWriter {
  private buf: Uint8Array;
  offset = 0;
  constructor(initialSize = 64) {
    this.buf = new Uint8Array(initialSize);
  }

  private ensure(n: number): void {
    if (this.offset + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.offset + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.offset));
    this.buf = next;
  }

  u8(v: number): this {
    this.ensure(1);
    this.buf[this.offset++] = v & 0xff;
    return this;
  }

  u16(v: number): this {
    this.ensure(2);
    this.buf[this.offset++] = v & 0xff;
    this.buf[this.offset++] = (v >>> 8) & 0xff;
    return this;
  }

  varuint(v: number): this {
    if (!Number.isSafeInteger(v) || v < 0) throw new NetloomError('encode_invalid', `not a varuint: ${v}`);
    this.ensure(8);
    while (v >= 0x80) {
      this.buf[this.offset++] = (v % 128) | 0x80;
      v = Math.floor(v / 128);
    }
    this.buf[this.offset++] = v;
    return this;
  }

  bytes(b: Uint8Array): this {
    this.ensure(b.length);
    this.buf.set(b, this.offset);
    this.offset += b.length;
    return this;
  }

  string(s: string): this {
    const encoded = textEncoder.encode(s);
    this.varuint(encoded.length);
    return this.bytes(encoded);
  }

  finish(): Uint8Array {
    return this.buf.subarray(0, this.offset);
  }
}

/** Number of bytes `varuint(v)` writes. */
export function varuintSize(v: number): number {
  let n = 1;
  while (v >= 0x80) {
    v = Math.floor(v / 128);
    n++;
  }
  return n;
}

/** Writes a varuint into `buf` at `offset` (caller guarantees room); returns the new offset. */
export function writeVaruint(buf: Uint8Array, offset: number, v: number): number {
  while (v >= 0x80) {
    buf[offset++] = (v % 128) | 0x80;
    v = Math.floor(v / 128);
  }
  buf[offset++] = v;
  return offset;
}
