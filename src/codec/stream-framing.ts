// Length-prefix framing for byte streams (WebTransport streams): varuint length, then that many bytes.
import { varuintSize, writeVaruint } from './bytes.js';
import { NetloomError } from './errors.js';

/** Default largest frame a LengthPrefixedDecoder accepts, in bytes. */
export const DEFAULT_MAX_STREAM_FRAME_BYTES = 65_536;

/** Longest length prefix accepted: 8 bytes of unsigned LEB128, as everywhere else in netloom. */
const MAX_PREFIX_BYTES = 8;

/** Returns `varuint(frame.length) ‖ frame` in one new buffer. */
export function encodeLengthPrefixed(frame: Uint8Array): Uint8Array {
  const out = new Uint8Array(varuintSize(frame.length) + frame.length);
  const o = writeVaruint(out, 0, frame.length);
  out.set(frame, o);
  return out;
}

export interface LengthPrefixedDecoderOptions {
  /** Largest frame accepted (default 65,536). A longer announced length throws `frame_too_large` before any buffering. */
  maxFrameBytes?: number;
}

/**
 * Splits a byte stream back into frames, whatever the chunk boundaries (even inside the length
 * prefix). Frames wholly inside one pushed chunk are returned as views into it (no copy); the
 * others are assembled into a buffer of exactly the announced size, allocated only once the
 * length is known to be within `maxFrameBytes`. After any error the decoder is failed: every
 * later `push` throws the same error, and the stream should be closed.
 */
export class LengthPrefixedDecoder {
  readonly maxFrameBytes: number;
  private lengthValue = 0;
  private lengthScale = 1;
  private lengthBytes = 0;
  private body: Uint8Array | null = null;
  private bodyFilled = 0;
  private failure: NetloomError | null = null;

  constructor(options: LengthPrefixedDecoderOptions = {}) {
    this.maxFrameBytes = options.maxFrameBytes ?? DEFAULT_MAX_STREAM_FRAME_BYTES;
  }

  /** Bytes held for an incomplete frame (prefix bytes plus body bytes so far). */
  get bufferedBytes(): number {
    return this.lengthBytes + this.bodyFilled;
  }

  /** True when no partial frame is pending (a clean place for the stream to end). */
  get idle(): boolean {
    return this.lengthBytes === 0 && this.body === null;
  }

  /** Feeds one chunk; returns the frames it completed, in order. */
  push(chunk: Uint8Array): Uint8Array[] {
    if (this.failure) throw this.failure;
    const frames: Uint8Array[] = [];
    let i = 0;
    const end = chunk.length;
    while (i < end) {
      if (this.body !== null) {
        const take = Math.min(this.body.length - this.bodyFilled, end - i);
        this.body.set(chunk.subarray(i, i + take), this.bodyFilled);
        this.bodyFilled += take;
        i += take;
        if (this.bodyFilled === this.body.length) {
          frames.push(this.body);
          this.body = null;
          this.bodyFilled = 0;
        }
        continue;
      }
      const byte = chunk[i++];
      this.lengthValue += (byte & 0x7f) * this.lengthScale;
      this.lengthScale *= 128;
      this.lengthBytes++;
      if (this.lengthValue > this.maxFrameBytes) {
        return this.fail(
          'frame_too_large',
          `stream frame of ${this.lengthValue}+ bytes exceeds ${this.maxFrameBytes}`,
        );
      }
      if (byte & 0x80) {
        if (this.lengthBytes >= MAX_PREFIX_BYTES)
          return this.fail('frame_malformed', 'length prefix over 8 bytes');
        continue;
      }
      const length = this.lengthValue;
      this.lengthValue = 0;
      this.lengthScale = 1;
      this.lengthBytes = 0;
      if (end - i >= length) {
        frames.push(chunk.subarray(i, i + length));
        i += length;
      } else {
        this.body = new Uint8Array(length);
        this.bodyFilled = 0;
      }
    }
    return frames;
  }

  private fail(code: 'frame_too_large' | 'frame_malformed', message: string): never {
    this.failure = new NetloomError(code, message);
    this.body = null;
    this.bodyFilled = 0;
    this.lengthBytes = 0;
    throw this.failure;
  }
}
