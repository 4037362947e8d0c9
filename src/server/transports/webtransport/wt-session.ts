// One WebTransport session (draft-02): datagrams with the quarter stream id, session streams, the close capsule, limits.
import { NetloomError } from '../../../codec/errors.js';
import { type Capsule, CapsuleParser, encodeCloseCapsule, encodeDrainCapsule } from './capsule.js';
import type { ConnectRequest } from './connect-request.js';
import { encodeDataHeader } from './h3-frames.js';
import type { QuicConnection } from './quic.js';
import type { StreamWriter } from './stream-writer.js';
import { varintSize, writeVarint } from './varint.js';

/** First HTTP/3 error code of the range that carries WebTransport application error codes. */
const WT_CODE_FIRST = 0x52e4a40fa8db;
const WT_CODE_LAST = 0x52e5ac983162;
/** WT_SESSION_GONE: a stream reset because its session ended. */
export const WT_SESSION_GONE = 0x170d7b68;
/** H3_REQUEST_REJECTED: used to refuse streams over the session's limit. */
export const H3_REQUEST_REJECTED = 0x10b;

/** Maps a WebTransport stream error code (u32) to the HTTP/3 error code sent on the wire. */
export function wtToH3Code(code: number): number {
  return WT_CODE_FIRST + code + Math.floor(code / 0x1e);
}

/** Maps an HTTP/3 reset code back to a WebTransport error code; codes outside the range give 0. */
export function h3ToWtCode(code: number): number {
  if (code < WT_CODE_FIRST || code > WT_CODE_LAST || (code - 0x21) % 0x1f === 0) return 0;
  const shifted = code - WT_CODE_FIRST;
  return shifted - Math.floor(shifted / 0x1f);
}

export interface WtSessionLimits {
  /** Streams open at once in one session (both directions, both kinds); more incoming are reset. Default 256. */
  maxStreams: number;
  /** Bytes a stream may hold in its send queue; `write` beyond returns false. Default 4 MiB. */
  maxStreamBufferBytes: number;
  /** Bytes received on a stream and held before its owner sets `ondata`; beyond, the stream is reset. Default 1 MiB. */
  maxHeldBytes: number;
}

export const DEFAULT_SESSION_LIMITS: WtSessionLimits = {
  maxStreams: 256,
  maxStreamBufferBytes: 4 * 1024 * 1024,
  maxHeldBytes: 1024 * 1024,
};

/** What a session needs from its HTTP/3 connection. */
export interface SessionHost {
  readonly quic: QuicConnection;
  /** Opens a QUIC stream for `session`, writes the WebTransport stream header, routes its events to the returned stream. */
  openSessionStream(session: WtSession, bidirectional: boolean): WtStream;
  /** The session is over: forget it. */
  sessionEnded(session: WtSession): void;
  /** A stream is done in both directions (or only its readable side may still see bytes). */
  forgetStream(id: number, readableEnded: boolean): void;
}

export interface WtCloseInfo {
  /** The application close code (0 for a close without capsule). */
  code: number;
  reason: string;
  local: boolean;
  /** True when the session ended without a close capsule or FIN (connection lost, stream reset). */
  abrupt: boolean;
}

/** One stream of a session: bidirectional, or unidirectional in one direction. */
export class WtStream {
  private dataHandler: ((data: Uint8Array, fin: boolean) => void) | null = null;
  private readonly held: Array<{ data: Uint8Array; fin: boolean }> = [];
  private heldBytes = 0;
  onreset: ((code: number) => void) | null = null;
  /** The send queue drained after `write` returned false or queued bytes. */
  onwritable: (() => void) | null = null;
  /** True once the peer finished or reset its side (or there is none). */
  readableEnded: boolean;

  constructor(
    readonly session: WtSession,
    readonly id: number,
    readonly bidirectional: boolean,
    /** True when the peer opened it. */
    readonly incoming: boolean,
    private readonly writer: StreamWriter | null,
  ) {
    this.readableEnded = !bidirectional && !incoming;
    if (writer)
      writer.ondrain = () => {
        this.session.streamMaybeDone(this);
        this.onwritable?.();
      };
  }

  get ondata(): ((data: Uint8Array, fin: boolean) => void) | null {
    return this.dataHandler;
  }

  /** Setting the handler delivers anything held so far, synchronously and in order. */
  set ondata(handler: ((data: Uint8Array, fin: boolean) => void) | null) {
    this.dataHandler = handler;
    while (handler && this.held.length > 0 && this.dataHandler === handler) {
      const item = this.held.shift()!;
      this.heldBytes -= item.data.length;
      handler(item.data, item.fin);
    }
  }

  get writable(): boolean {
    return this.writer !== null && !this.writer.finished;
  }

  /** Bytes waiting in the send queue. */
  get bufferedBytes(): number {
    return this.writer?.bufferedBytes ?? 0;
  }

  /** Queues bytes (copied only if flow control cannot take them now); false when the stream cannot send or the queue would pass its limit. */
  write(data: Uint8Array): boolean {
    const writer = this.writer;
    if (!writer || writer.finished || this.session.closed) return false;
    if (writer.bufferedBytes + data.length > this.session.limits.maxStreamBufferBytes) return false;
    writer.write(data);
    return true;
  }

  /** Finishes the sending side after the queued bytes. */
  end(): void {
    this.writer?.end();
    this.session.streamMaybeDone(this);
  }

  /** Resets the sending side with a WebTransport error code (a u32). */
  reset(code = 0): void {
    this.abort(wtToH3Code(code >>> 0));
    this.session.streamMaybeDone(this);
  }

  /** Stops sending: resets the sending side with a raw HTTP/3 code when `reset`, else only drops the queue. */
  abort(h3Code: number, reset = true): void {
    if (!this.writer) return;
    const wasOpen = !this.writer.finished;
    this.writer.abandon();
    if (reset && (wasOpen || this.pendingReset)) {
      this.pendingReset = false;
      try {
        this.session.host.quic.resetStream(this.id, h3Code);
      } catch {
        // already gone
      }
    } else if (!reset && wasOpen) this.pendingReset = true;
    if (wasOpen) this.onwritable?.();
  }

  /** Set when the sending side was dropped without a reset that is still owed. */
  private pendingReset = false;

  /** Called by the connection: stream data from the peer. */
  receive(data: Uint8Array, fin: boolean): void {
    if (this.readableEnded) return;
    if (fin) this.readableEnded = true;
    if (this.dataHandler && this.held.length === 0) this.dataHandler(data, fin);
    else {
      this.heldBytes += data.length;
      if (this.heldBytes > this.session.limits.maxHeldBytes) {
        this.held.length = 0;
        this.readableEnded = true;
        this.reset(0);
        return;
      }
      this.held.push({ data: data.slice(), fin });
    }
    if (fin) this.session.streamMaybeDone(this);
  }

  /** Called by the connection: the peer reset the stream or asked us to stop sending. */
  receiveReset(h3Code: number): void {
    this.readableEnded = true;
    this.writer?.abandon();
    this.onreset?.(h3ToWtCode(h3Code));
    this.onwritable?.();
    this.session.streamMaybeDone(this);
  }

  /** True when neither direction has anything more to do. */
  get done(): boolean {
    return this.readableEnded && (this.writer === null || this.writer.finished);
  }
}

/**
 * A WebTransport session on one CONNECT stream. Datagrams carry the quarter stream id (session id / 4) as a
 * varint prefix; the close capsule travels in DATA frames on the CONNECT stream, followed by FIN.
 */
export class WtSession {
  ondatagram: ((data: Uint8Array) => void) | null = null;
  private streamHandler: ((stream: WtStream) => void) | null = null;
  private readonly heldStreams: WtStream[] = [];
  onclose: ((info: WtCloseInfo) => void) | null = null;
  /** A DRAIN capsule arrived: the peer wants the session wound down. */
  ondrain: (() => void) | null = null;
  closed = false;
  readonly streams = new Map<number, WtStream>();
  private readonly prefixSize: number;
  private readonly capsules: CapsuleParser;
  private deferredResets: WtStream[] = [];
  /** Datagrams that arrived for this session and were dropped because `ondatagram` was not set. */
  droppedDatagrams = 0;

  constructor(
    readonly id: number,
    readonly request: ConnectRequest,
    readonly host: SessionHost,
    private readonly connectWriter: StreamWriter,
    readonly limits: WtSessionLimits = DEFAULT_SESSION_LIMITS,
  ) {
    this.prefixSize = varintSize(id / 4);
    this.capsules = new CapsuleParser((capsule) => this.handleCapsule(capsule));
  }

  get onstream(): ((stream: WtStream) => void) | null {
    return this.streamHandler;
  }

  /** Incoming streams that arrived before a handler was set are delivered when it is set. */
  set onstream(handler: ((stream: WtStream) => void) | null) {
    this.streamHandler = handler;
    while (handler && this.heldStreams.length > 0 && this.streamHandler === handler) {
      handler(this.heldStreams.shift()!);
    }
  }

  /** Largest datagram payload this session can send now. */
  get maxDatagramSize(): number {
    return Math.max(0, this.host.quic.maxDatagramSize - this.prefixSize);
  }

  /** Bytes of the quarter-stream-id prefix in front of every datagram of this session. */
  get datagramPrefixSize(): number {
    return this.prefixSize;
  }

  /** Sends a datagram; false when it is larger than `maxDatagramSize`, the queue is full, or the session is closed. */
  sendDatagram(data: Uint8Array): boolean {
    if (this.closed || data.length > this.maxDatagramSize) return false;
    const out = new Uint8Array(this.prefixSize + data.length);
    writeVarint(out, 0, this.id / 4, this.prefixSize);
    out.set(data, this.prefixSize);
    return this.host.quic.sendDatagram(out);
  }

  /**
   * Sends `buffer.subarray(offset)` as a datagram without copying it: the prefix is written into the
   * `datagramPrefixSize` bytes before `offset`, which the caller gives up.
   */
  sendDatagramInPlace(buffer: Uint8Array, offset: number): boolean {
    const length = buffer.length - offset;
    if (this.closed || length > this.maxDatagramSize || offset < this.prefixSize) return false;
    const start = offset - this.prefixSize;
    writeVarint(buffer, start, this.id / 4, this.prefixSize);
    return this.host.quic.sendDatagram(buffer.subarray(start));
  }

  /** Opens a stream to the peer. Throws `wt_stream_limit` over the limit, `link_closed` once closed. */
  openStream(bidirectional: boolean): WtStream {
    if (this.closed) throw new NetloomError('link_closed', 'session closed');
    if (this.streams.size >= this.limits.maxStreams)
      throw new NetloomError('wt_stream_limit', `more than ${this.limits.maxStreams} streams`);
    const stream = this.host.openSessionStream(this, bidirectional);
    this.streams.set(stream.id, stream);
    return stream;
  }

  /** Sends a DRAIN capsule (asks the peer to wind the session down). */
  drain(): void {
    if (!this.closed) this.writeCapsule(encodeDrainCapsule(), false);
  }

  /** Closes with the close capsule and FIN; streams still open are reset. Idempotent. */
  close(code = 0, reason = ''): void {
    if (this.closed) return;
    this.writeCapsule(encodeCloseCapsule(code, reason), true);
    this.finish({ code: code >>> 0, reason, local: true, abrupt: false });
  }

  /** Called by the connection: an incoming stream for this session (the header already read). */
  acceptStream(streamId: number, bidirectional: boolean, writer: StreamWriter | null): WtStream | null {
    if (this.closed || this.streams.size >= this.limits.maxStreams) return null;
    const stream = new WtStream(this, streamId, bidirectional, true, writer);
    this.streams.set(streamId, stream);
    if (this.streamHandler && this.heldStreams.length === 0) this.streamHandler(stream);
    else this.heldStreams.push(stream);
    return stream;
  }

  /** Called by the connection: a datagram payload (prefix removed). */
  receiveDatagram(data: Uint8Array): void {
    if (this.closed) return;
    if (this.ondatagram) this.ondatagram(data);
    else this.droppedDatagrams++;
  }

  /** Called by the connection: DATA bytes on the CONNECT stream (capsules); `fin` when the peer finished it. */
  receiveConnectData(bytes: Uint8Array): void {
    if (this.closed) return;
    this.capsules.push(bytes);
  }

  /** Called by the connection: the peer finished the CONNECT stream (a close without capsule is code 0). */
  receiveConnectFin(): void {
    if (this.closed) {
      // The peer answered our close: now reset what we left open (see `finish`).
      for (const stream of this.deferredResets.splice(0)) stream.abort(WT_SESSION_GONE, true);
      return;
    }
    this.connectWriter.end();
    this.finish({ code: 0, reason: '', local: false, abrupt: false });
  }

  /** Called by the connection: the CONNECT stream was reset, or the connection is gone. */
  terminate(reason: string, local: boolean): void {
    if (this.closed) return;
    this.connectWriter.abandon();
    this.finish({ code: 0, reason, local, abrupt: true });
  }

  /** Called by streams: forget a stream once both directions are done. */
  streamMaybeDone(stream: WtStream): void {
    if (!stream.done || !this.streams.has(stream.id)) return;
    this.streams.delete(stream.id);
    this.host.forgetStream(stream.id, true);
  }

  private handleCapsule(capsule: Capsule): void {
    if (capsule.type === 'drain') {
      this.ondrain?.();
      return;
    }
    this.connectWriter.end();
    this.finish({ code: capsule.code, reason: capsule.reason, local: false, abrupt: false });
  }

  private writeCapsule(capsule: Uint8Array, fin: boolean): void {
    this.connectWriter.write(encodeDataHeader(capsule.length));
    this.connectWriter.write(capsule, fin);
  }

  /**
   * Ends the session. After a local close the streams stop sending at once but are reset only when the
   * peer answers with FIN on the CONNECT stream: a reset that overtook the close capsule would make the peer
   * see a stream failure instead of the close.
   */
  private finish(info: WtCloseInfo): void {
    this.closed = true;
    const defer = info.local && !info.abrupt;
    for (const stream of this.streams.values()) stream.abort(WT_SESSION_GONE, !defer);
    if (defer) this.deferredResets = [...this.streams.values()];
    this.host.sessionEnded(this);
    for (const stream of this.streams.values()) stream.readableEnded = true;
    this.streams.clear();
    this.heldStreams.length = 0;
    this.onclose?.(info);
  }
}
