// An incremental type-length-value parser over a byte stream: the shape shared by HTTP/3 frames and capsules.
import { NetloomError } from '../../../codec/errors.js';
import { readVarint, varintLengthOf } from './varint.js';

/** What to do with a payload once its type and length are known. */
export type TlvAction = 'buffer' | 'stream' | 'skip' | 'detach';

export interface TlvSink {
  /**
   * A new element begins; decide how to take its payload (throw a NetloomError to refuse it):
   * `buffer` collects it whole for `element`, `stream` hands it over in pieces to `piece`,
   * `skip` drops it, `detach` stops parsing (then `length` is the second varint, not a length,
   * and the bytes after it go to `detached`).
   */
  begin(type: number, length: number): TlvAction;
  element(type: number, payload: Uint8Array): void;
  piece(type: number, bytes: Uint8Array): void;
  detached(type: number, second: number, rest: Uint8Array): void;
}

/**
 * Splits a byte stream into (type, length, payload) elements whatever the chunk boundaries. Buffered
 * payloads are checked against `maxBufferBytes` before anything is allocated. After an error or a
 * detach the parser takes no more input.
 */
export class TlvParser {
  private readonly head = new Uint8Array(16);
  private headLength = 0;
  private mode: 'head' | 'buffer' | 'stream' | 'skip' | 'done' = 'head';
  private type = 0;
  private remaining = 0;
  private body: Uint8Array | null = null;
  private bodyFilled = 0;

  constructor(
    private readonly sink: TlvSink,
    private readonly maxBufferBytes: number,
    private readonly errorCode: 'h3_frame_error' | 'capsule_error',
  ) {}

  /** True between elements (a clean place for the stream to end). */
  get idle(): boolean {
    return this.mode === 'head' && this.headLength === 0;
  }

  /** Bytes held for an incomplete element. */
  get bufferedBytes(): number {
    return this.headLength + this.bodyFilled;
  }

  push(chunk: Uint8Array): void {
    if (this.mode === 'done') return;
    let i = 0;
    const end = chunk.length;
    try {
      while (i < end) {
        if (this.mode === 'head') {
          const before = this.headLength;
          const take = Math.min(16 - before, end - i);
          this.head.set(chunk.subarray(i, i + take), before);
          this.headLength += take;
          const type = readVarint(this.head, 0, this.headLength);
          if (type < 0) {
            i += take;
            continue;
          }
          const typeLength = varintLengthOf(this.head[0]);
          const length = readVarint(this.head, typeLength, this.headLength);
          if (length < 0) {
            i += take;
            continue;
          }
          const used = typeLength + varintLengthOf(this.head[typeLength]);
          i += used - before;
          this.headLength = 0;
          if (this.start(type, length, chunk, i)) return;
          continue;
        }
        const take = Math.min(this.remaining, end - i);
        const bytes = chunk.subarray(i, i + take);
        i += take;
        this.remaining -= take;
        if (this.mode === 'stream') {
          if (take > 0) this.sink.piece(this.type, bytes);
        } else if (this.mode === 'buffer') {
          if (this.body === null) {
            if (this.remaining === 0) {
              this.mode = 'head';
              this.sink.element(this.type, bytes);
              continue;
            }
            this.body = new Uint8Array(take + this.remaining);
          }
          this.body.set(bytes, this.bodyFilled);
          this.bodyFilled += take;
          if (this.remaining === 0) {
            const payload = this.body;
            this.body = null;
            this.bodyFilled = 0;
            this.mode = 'head';
            this.sink.element(this.type, payload);
            continue;
          }
        }
        if (this.remaining === 0) this.mode = 'head';
      }
    } catch (err) {
      this.mode = 'done';
      this.body = null;
      throw err;
    }
  }

  /** Begins an element; returns true when parsing stopped (detached). */
  private start(type: number, length: number, chunk: Uint8Array, offset: number): boolean {
    const action = this.sink.begin(type, length);
    this.type = type;
    if (action === 'detach') {
      this.mode = 'done';
      this.sink.detached(type, length, chunk.subarray(offset));
      return true;
    }
    if (action === 'buffer' && length > this.maxBufferBytes) {
      throw new NetloomError(this.errorCode, `element of ${length} bytes exceeds ${this.maxBufferBytes}`);
    }
    this.remaining = length;
    this.mode = action;
    if (action === 'buffer' && length === 0) {
      this.mode = 'head';
      this.sink.element(type, new Uint8Array(0));
    } else if (length === 0) this.mode = 'head';
    return false;
  }
}
