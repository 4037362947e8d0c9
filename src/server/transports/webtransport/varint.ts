// QUIC variable-length integers (RFC 9000 §16): bounds-checked reads, writes and sizes.
import { NetloomError } from '../../../codec/errors.js';

/** Largest value a QUIC varint holds (2^62 - 1); values above 2^53 - 1 lose precision as numbers. */
export const MAX_VARINT = 2 ** 62 - 1;

/** Bytes the varint starting with `firstByte` occupies (1, 2, 4 or 8). */
export function varintLengthOf(firstByte: number): number {
  return 1 << (firstByte >> 6);
}

/** Bytes needed to encode `value`. Throws `encode_invalid` for a negative, fractional or too large value. */
export function varintSize(value: number): number {
  if (value < 64 && value >= 0) return 1;
  if (value < 16_384 && value >= 0) return 2;
  if (value < 1_073_741_824 && value >= 0) return 4;
  if (value < 2 ** 62 && value >= 0) return 8;
  throw new NetloomError('encode_invalid', `varint out of range: ${value}`);
}

/**
 * Reads a varint at `offset` without reading at or past `end`. Returns the value, or -1 when the bytes
 * before `end` do not hold the whole varint (the caller waits for more). Never throws.
 */
export function readVarint(bytes: Uint8Array, offset: number, end: number = bytes.length): number {
  if (offset >= end) return -1;
  const first = bytes[offset];
  const length = 1 << (first >> 6);
  if (offset + length > end) return -1;
  let value = first & 0x3f;
  for (let i = 1; i < length; i++) value = value * 256 + bytes[offset + i];
  return value;
}

/** Writes `value` at `offset` in the shortest form (or in `size` bytes when given); returns the next offset. */
export function writeVarint(
  out: Uint8Array,
  offset: number,
  value: number,
  size = varintSize(value),
): number {
  if (size < varintSize(value))
    throw new NetloomError('encode_invalid', `varint ${value} needs more than ${size} bytes`);
  let v = value;
  for (let i = size - 1; i > 0; i--) {
    out[offset + i] = v % 256;
    v = Math.floor(v / 256);
  }
  out[offset] = v | ((size === 1 ? 0 : size === 2 ? 1 : size === 4 ? 2 : 3) << 6);
  return offset + size;
}

/** Concatenates the varint encodings of `values` into one new buffer. */
export function encodeVarints(...values: number[]): Uint8Array {
  let size = 0;
  for (const v of values) size += varintSize(v);
  const out = new Uint8Array(size);
  let o = 0;
  for (const v of values) o = writeVarint(out, o, v);
  return out;
}

/** A cursor that reads varints from a bounded range and throws `code` when one is cut short. */
export class VarintCursor {
  constructor(
    readonly bytes: Uint8Array,
    public offset: number,
    readonly end: number,
    private readonly code: 'h3_frame_error' | 'h3_settings_error' | 'capsule_error' = 'h3_frame_error',
  ) {}

  get remaining(): number {
    return this.end - this.offset;
  }

  varint(): number {
    const value = readVarint(this.bytes, this.offset, this.end);
    if (value < 0) throw new NetloomError(this.code, 'truncated varint');
    this.offset += varintLengthOf(this.bytes[this.offset]);
    return value;
  }
}

/**
 * Reads the first few varints of a stream (a stream type, a session id) whatever the chunk
 * boundaries. Holds at most `count` × 8 bytes.
 */
export class StreamPrefix {
  private held: Uint8Array = new Uint8Array(0);
  readonly values: number[] = [];

  constructor(private readonly count: number) {}

  /** Feeds a chunk; returns the bytes after the prefix once all `count` varints are read, else null. */
  push(chunk: Uint8Array): Uint8Array | null {
    let data = chunk;
    if (this.held.length > 0) {
      data = new Uint8Array(this.held.length + chunk.length);
      data.set(this.held);
      data.set(chunk, this.held.length);
    }
    let o = 0;
    while (this.values.length < this.count) {
      const value = readVarint(data, o, data.length);
      if (value < 0) {
        this.held = data.slice(o);
        return null;
      }
      this.values.push(value);
      o += varintLengthOf(data[o]);
    }
    this.held = new Uint8Array(0);
    return data.subarray(o);
  }

  /** True once all varints are read. */
  get done(): boolean {
    return this.values.length >= this.count;
  }
}
