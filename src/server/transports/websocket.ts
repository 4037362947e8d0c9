// The server side of the WebSocket link: wraps an open `ws` socket (as @fastify/websocket hands it) as a Link.
import type { RawData, WebSocket } from 'ws';
import type { ErrorCode } from '../../codec/errors.js';
import {
  type Channel,
  FRAME_SPARE_BYTES,
  type Link,
  type LinkCloseInfo,
  LinkCounters,
} from '../../link/link.js';

import {
  truncateUtf8,
  WS_CLOSE_ERROR,
  WS_CLOSE_NORMAL,
  WS_MAX_CLOSE_REASON_BYTES,
  WS_TAG_RELIABLE,
  WS_TAG_UNRELIABLE,
  wsCloseReason,
} from '../../link/websocket-wire.js';

import { installFastReader } from './websocket-reader.js';

export * from '../../link/websocket-wire.js';

/** The parts of a `ws` WebSocket the fast path relies on (checked once per socket). */
interface WsInternals {
  socket: { write(data: Uint8Array): boolean; cork(): void; uncork(): void };
  sender: { _state: number };
}

function wsInternals(socket: WebSocket): WsInternals | null {
  const inner = socket as unknown as {
    _socket?: { write?: unknown; cork?: unknown; uncork?: unknown };
    _sender?: { _state?: unknown; _extensions?: object };
    extensions?: string;
  };
  const raw = inner._socket;
  const sender = inner._sender;
  if (
    !raw ||
    typeof raw.write !== 'function' ||
    typeof raw.cork !== 'function' ||
    typeof raw.uncork !== 'function' ||
    !sender ||
    typeof sender._state !== 'number'
  )
    return null;
  if (socket.extensions !== '' || Object.keys(sender._extensions ?? {}).length > 0) return null;
  return { socket: raw as WsInternals['socket'], sender: sender as WsInternals['sender'] };
}

export interface WebSocketServerLinkOptions {
  /** Unreliable sends are dropped (and counted in `droppedOut`) while more than this many bytes are buffered. Default 65,536. */
  unreliableDropBytes?: number;
  /**
   * A reliable send that would take the buffered bytes above this closes the link with `slow_consumer`,
   * so a client that never reads cannot grow server memory without bound. Default 4 MiB.
   */
  maxBufferedBytes?: number;
  /**
   * Largest incoming WebSocket message, tag byte included; larger ones close the link with
   * `frame_too_large`. Default 65,537 (a 64 KiB frame plus its tag). Pass the same value as the `ws`
   * server's `maxPayload` so that oversize messages are refused before they are buffered.
   */
  maxFrameBytes?: number;
  /** Read plain binary messages straight off the TCP socket instead of through ws's Receiver (default true). */
  fastReader?: boolean;
}

export const WEBSOCKET_LINK_DEFAULTS: Required<WebSocketServerLinkOptions> = {
  unreliableDropBytes: 65_536,
  maxBufferedBytes: 4 * 1024 * 1024,
  maxFrameBytes: 65_536 + 1,
  fastReader: true,
};

const OPEN = 1;
/**
 * A Link over one server-side `ws` WebSocket. Construct it and set `onframe` synchronously in the route
 * handler, before any await: `ws` does not keep messages for late listeners, and frames that arrive
 * while `onframe` is null are dropped.
 *
 * Closes the link initiates itself (`slow_consumer`, `frame_too_large`, `frame_malformed`) report
 * `local: false`, because the owner of the link did not call `close()`; the peer is told the code in the
 * WebSocket close reason where it can still be sent (a slow consumer is cut off at once instead).
 * A peer's close arrives as `link_closed`, or `normal` when the peer closed with code 1000.
 */
export class WebSocketServerLink extends LinkCounters implements Link {
  readonly transport = 'websocket' as const;
  onframe: ((frame: Uint8Array, channel: Channel) => void) | null = null;
  onclose: ((info: LinkCloseInfo) => void) | null = null;

  private closed = false;
  private readonly unreliableDropBytes: number;
  private readonly maxBufferedBytes: number;
  private readonly maxFrameBytes: number;
  /** `ws` internals used by the one-write fast path, or null when they are not as expected. */
  private readonly rawSocket: WsInternals['socket'] | null;
  private readonly rawSender: WsInternals['sender'] | null;

  constructor(
    private readonly socket: WebSocket,
    options: WebSocketServerLinkOptions = {},
  ) {
    super();
    this.unreliableDropBytes = options.unreliableDropBytes ?? WEBSOCKET_LINK_DEFAULTS.unreliableDropBytes;
    this.maxBufferedBytes = options.maxBufferedBytes ?? WEBSOCKET_LINK_DEFAULTS.maxBufferedBytes;
    this.maxFrameBytes = options.maxFrameBytes ?? WEBSOCKET_LINK_DEFAULTS.maxFrameBytes;
    const raw = wsInternals(socket);
    this.rawSocket = raw?.socket ?? null;
    this.rawSender = raw?.sender ?? null;
    socket.binaryType = 'nodebuffer';
    socket.on('message', this.handleMessage);
    socket.on('close', this.handleClose);
    socket.on('error', this.handleError);
    // Plain binary messages skip ws's Receiver stream (see websocket-reader.ts); with an extension
    // negotiated (raw === null) every byte stays with ws.
    if (raw !== null && socket.readyState === OPEN && options.fastReader !== false)
      installFastReader(socket, (chunk, start, end) => this.take(chunk, start, end));
    if (socket.readyState !== OPEN) {
      this.closed = true;
      queueMicrotask(() =>
        this.emitClose({ code: 'link_closed', reason: 'socket was not open', local: false }),
      );
    }
  }

  get isOpen(): boolean {
    return !this.closed;
  }

  get bufferedBytes(): number {
    return this.socket.bufferedAmount;
  }

  send(channel: Channel, frame: Uint8Array): boolean {
    const length = frame.byteLength;
    if (!this.admit(channel, length)) return false;
    // One copy: tag and frame in one buffer (from Node's pool when small); ws writes it without copying.
    const message = Buffer.allocUnsafe(length + 1);
    message[0] = channel === 'reliable' ? WS_TAG_RELIABLE : WS_TAG_UNRELIABLE;
    message.set(frame, 1);
    this.socket.send(message);
    this.count(channel, length);
    return true;
  }

  /**
   * The copy-free path. The channel tag goes into the last spare byte and, while `ws`'s sender is
   * idle, the WebSocket header (an unmasked binary frame, FIN set) into the bytes before it, and the
   * whole message is written to the TCP socket in one call: the same bytes `ws` would write, without
   * its two-buffer writev. Otherwise (sender busy, an extension negotiated, a frame over 64 KiB) the
   * message goes through `ws` as usual.
   */
  sendWithSpare(channel: Channel, buffer: Uint8Array): boolean {
    const length = buffer.byteLength - FRAME_SPARE_BYTES;
    if (!this.admit(channel, length)) return false;
    const tagAt = FRAME_SPARE_BYTES - 1;
    buffer[tagAt] = channel === 'reliable' ? WS_TAG_RELIABLE : WS_TAG_UNRELIABLE;
    const payloadLength = length + 1;
    const rawSocket = this.rawSocket;
    if (rawSocket !== null && this.rawSender?._state === 0 && payloadLength <= 0xffff) {
      let start: number;
      if (payloadLength < 126) {
        start = tagAt - 2;
        buffer[start + 1] = payloadLength;
      } else {
        start = tagAt - 4;
        buffer[start + 1] = 126;
        buffer[start + 2] = payloadLength >>> 8;
        buffer[start + 3] = payloadLength & 0xff;
      }
      buffer[start] = 0x82; // FIN + binary opcode
      rawSocket.write(buffer.subarray(start));
    } else {
      this.socket.send(buffer.subarray(tagAt));
    }
    this.count(channel, length);
    return true;
  }

  /** Holds the TCP socket's writes until `uncork`, so that they leave in one `writev` (one syscall). */
  cork(): void {
    this.rawSocket?.cork();
  }

  uncork(): void {
    this.rawSocket?.uncork();
  }

  /** Decides whether a frame of `length` bytes may go out now (drops unreliable under congestion). */
  private admit(channel: Channel, length: number): boolean {
    if (this.closed || this.socket.readyState !== OPEN) {
      if (channel === 'unreliable') this.droppedOut++;
      return false;
    }
    if (length <= 0) return false;
    const buffered = this.socket.bufferedAmount;
    if (channel === 'unreliable') {
      if (buffered > this.unreliableDropBytes) {
        this.droppedOut++;
        return false;
      }
    } else if (buffered + length + 1 > this.maxBufferedBytes) {
      this.fail('slow_consumer', `send buffer would exceed ${this.maxBufferedBytes} bytes`, 'terminate');
      return false;
    }
    return true;
  }

  private count(channel: Channel, length: number): void {
    this.sent(channel, length);
  }

  close(code: ErrorCode | 'normal' = 'normal', reason = ''): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.off('message', this.handleMessage);
    if (code === 'normal')
      this.socket.close(WS_CLOSE_NORMAL, truncateUtf8(reason, WS_MAX_CLOSE_REASON_BYTES));
    else this.socket.close(WS_CLOSE_ERROR, wsCloseReason(code, reason));
    this.emitClose({ code, reason, local: true });
  }

  private readonly handleMessage = (data: RawData, isBinary: boolean): void => {
    if (this.closed) return;
    if (!isBinary) {
      this.fail('frame_malformed', 'text message');
      return;
    }
    const bytes = Array.isArray(data)
      ? Buffer.concat(data)
      : data instanceof ArrayBuffer
        ? new Uint8Array(data)
        : data;
    this.take(bytes, 0, bytes.byteLength);
  };

  /** Hands on the link frame in `bytes[start..end)` (channel tag first), or fails the link over it. */
  private take(bytes: Uint8Array, start: number, end: number): void {
    if (this.closed) return;
    const length = end - start;
    if (length > this.maxFrameBytes) {
      this.fail('frame_too_large', `message of ${length} bytes`);
      return;
    }
    if (length < 2) {
      this.fail('frame_malformed', 'empty frame');
      return;
    }
    const tag = bytes[start];
    const channel: Channel | null =
      tag === WS_TAG_RELIABLE ? 'reliable' : tag === WS_TAG_UNRELIABLE ? 'unreliable' : null;
    if (channel === null) {
      this.fail('frame_malformed', `unknown channel tag ${tag}`);
      return;
    }
    // A plain Uint8Array view (not a Buffer, whose slice() would not copy), without the tag.
    const frame = new Uint8Array(bytes.buffer, bytes.byteOffset + start + 1, length - 1);
    this.received(channel, length - 1);
    try {
      this.onframe?.(frame, channel);
    } catch (err) {
      // A throwing handler must not reach ws's socket listener (that would crash the process).
      this.fail('internal_error', `onframe threw: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  private readonly handleClose = (code: number, reason: Buffer): void => {
    if (this.closed) return;
    this.closed = true;
    this.emitClose({
      code: code === WS_CLOSE_NORMAL ? 'normal' : 'link_closed',
      reason: reason.toString('utf8'),
      local: false,
    });
  };

  private readonly handleError = (err: Error & { code?: string }): void => {
    if (this.closed) return;
    // `ws` reports protocol violations as WS_ERR_* and closes the socket itself (1009 for oversize).
    const wsCode = err.code ?? '';
    if (wsCode === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') this.fail('frame_too_large', err.message, 'none');
    else if (wsCode.startsWith('WS_ERR_')) this.fail('frame_malformed', err.message, 'none');
    else this.fail('link_closed', err.message, 'terminate');
  };

  /**
   * Ends the link for a reason found on this side. `close` tells the peer the code in a close frame;
   * `terminate` cuts the socket (a slow consumer would never read a close frame); `none` leaves the
   * socket to `ws`, which is already closing it.
   */
  private fail(code: ErrorCode, reason: string, action: 'close' | 'terminate' | 'none' = 'close'): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.off('message', this.handleMessage);
    if (action === 'close') this.socket.close(WS_CLOSE_ERROR, wsCloseReason(code, reason));
    else if (action === 'terminate') this.socket.terminate();
    this.emitClose({ code, reason, local: false });
  }

  private emitClose(info: LinkCloseInfo): void {
    this.onclose?.(info);
  }
}
