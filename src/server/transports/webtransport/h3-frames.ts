// HTTP/3 frames (RFC 9114 §7): types, an incremental frame parser that skips unknown and grease frames, encoders.
import { NetloomError } from '../../../codec/errors.js';
import { type TlvAction, TlvParser } from './tlv.js';
import { varintSize, writeVarint } from './varint.js';

export const FRAME_DATA = 0x00;
export const FRAME_HEADERS = 0x01;
export const FRAME_CANCEL_PUSH = 0x03;
export const FRAME_SETTINGS = 0x04;
export const FRAME_PUSH_PROMISE = 0x05;
export const FRAME_GOAWAY = 0x07;
export const FRAME_MAX_PUSH_ID = 0x0d;
/** WebTransport draft-02: a client bidirectional stream that starts with this type carries a WebTransport stream. */
export const WEBTRANSPORT_STREAM_SIGNAL = 0x41;

/** Frame types of HTTP/2 that HTTP/3 reserves: receiving one is H3_FRAME_UNEXPECTED. */
const HTTP2_RESERVED = new Set([0x02, 0x06, 0x08, 0x09]);
/** Frames the parser collects whole; anything else but DATA is skipped. */
const BUFFERED = new Set([
  FRAME_HEADERS,
  FRAME_CANCEL_PUSH,
  FRAME_SETTINGS,
  FRAME_PUSH_PROMISE,
  FRAME_GOAWAY,
  FRAME_MAX_PUSH_ID,
]);

export interface H3FrameHandler {
  /** A whole HEADERS, SETTINGS, GOAWAY, CANCEL_PUSH, PUSH_PROMISE or MAX_PUSH_ID frame. */
  frame(type: number, payload: Uint8Array): void;
  /** A piece of a DATA frame's payload. */
  data(bytes: Uint8Array): void;
  /** The stream began with the WebTransport signal: `rest` is the first stream data after the session id. */
  webtransport?(sessionId: number, rest: Uint8Array): void;
}

export interface H3FrameParserOptions {
  /** Largest frame collected whole (HEADERS, SETTINGS, ...); larger ones throw. Default 65,536. */
  maxFrameBytes?: number;
  /** Accept the WebTransport stream signal as the first frame (client bidirectional streams). */
  webtransportSignal?: boolean;
}

/**
 * Parses the frames of one HTTP/3 stream. Unknown and reserved (grease) frame types are skipped without
 * buffering; HTTP/2's frame types throw `h3_frame_unexpected`; a HEADERS frame over the limit throws
 * `h3_headers_too_large`, any other over-long frame `h3_frame_error`.
 */
export class H3FrameParser {
  private readonly parser: TlvParser;
  private first = true;

  constructor(handler: H3FrameHandler, options: H3FrameParserOptions = {}) {
    const maxFrameBytes = options.maxFrameBytes ?? 65_536;
    const signal = options.webtransportSignal === true;
    this.parser = new TlvParser(
      {
        begin: (type, length): TlvAction => {
          const first = this.first;
          this.first = false;
          if (type === WEBTRANSPORT_STREAM_SIGNAL && first && signal) return 'detach';
          if (type === FRAME_DATA) return 'stream';
          if (HTTP2_RESERVED.has(type)) throw new NetloomError('h3_frame_unexpected', `frame type ${type}`);
          if (!BUFFERED.has(type)) return 'skip';
          if (type === FRAME_HEADERS && length > maxFrameBytes)
            throw new NetloomError('h3_headers_too_large', `HEADERS frame of ${length} bytes`);
          return 'buffer';
        },
        element: (type, payload) => handler.frame(type, payload),
        piece: (_type, bytes) => handler.data(bytes),
        detached: (_type, sessionId, rest) => {
          if (!handler.webtransport) throw new NetloomError('h3_frame_unexpected', 'WebTransport signal');
          handler.webtransport(sessionId, rest);
        },
      },
      maxFrameBytes,
      'h3_frame_error',
    );
  }

  /** True between frames. */
  get idle(): boolean {
    return this.parser.idle;
  }

  push(chunk: Uint8Array): void {
    this.parser.push(chunk);
  }
}

/** Encodes one frame: type, length, payload. */
export function encodeFrame(type: number, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(varintSize(type) + varintSize(payload.length) + payload.length);
  let o = writeVarint(out, 0, type);
  o = writeVarint(out, o, payload.length);
  out.set(payload, o);
  return out;
}

/** The header of a DATA frame of `length` bytes (the payload follows separately). */
export function encodeDataHeader(length: number): Uint8Array {
  const out = new Uint8Array(1 + varintSize(length));
  writeVarint(out, 1, length);
  return out;
}

/** Reads the single varint of a GOAWAY, CANCEL_PUSH or MAX_PUSH_ID payload. */
export function parseIdPayload(payload: Uint8Array): number {
  if (payload.length === 0) throw new NetloomError('h3_frame_error', 'empty id frame');
  const length = 1 << (payload[0] >> 6);
  if (length !== payload.length) throw new NetloomError('h3_frame_error', 'bad id frame length');
  let value = payload[0] & 0x3f;
  for (let i = 1; i < length; i++) value = value * 256 + payload[i];
  return value;
}
