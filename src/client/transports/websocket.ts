// The client side of the WebSocket link: opens a browser (or `ws`) WebSocket and presents it as a Link.
import { type ErrorCode, NetloomError } from '../../codec/errors.js';
import { type InboxTarget, LinkInbox } from '../../link/inbox.js';
import {
  type Channel,
  FRAME_SPARE_BYTES,
  type Link,
  type LinkCloseInfo,
  LinkCounters,
  type LinkStats,
} from '../../link/link.js';
import {
  WS_CLOSE_ERROR as CLOSE_ERROR,
  WS_CLOSE_NORMAL as CLOSE_NORMAL,
  WS_TAG_RELIABLE as TAG_RELIABLE,
  WS_TAG_UNRELIABLE as TAG_UNRELIABLE,
  truncateUtf8,
} from '../../link/websocket-wire.js';
import { type Clock, systemClock } from '../../shared/clock.js';

const OPEN = 1;

/** An event handler property typed so that both the DOM's and `ws`'s handler types fit (bivariant). */
type Handler<E> = { bivarianceHack(event: E): void }['bivarianceHack'] | null;

/** The part of the WebSocket API this link uses; the browser's WebSocket and `ws`'s both satisfy it. */
export interface WebSocketLike {
  binaryType: string;
  readonly bufferedAmount: number;
  readonly readyState: number;
  send(data: Uint8Array): void;
  close(code?: number, reason?: string): void;
  onopen: Handler<unknown>;
  onerror: Handler<unknown>;
  onclose: Handler<{ code: number; reason: string }>;
  onmessage: Handler<{ data: unknown }>;
}

/** A WebSocket constructor: `globalThis.WebSocket` in browsers, `WebSocket` from the `ws` package in Node. */
export type WebSocketConstructor = new (url: string) => WebSocketLike;

export interface ConnectWebSocketOptions {
  /** The constructor to use; defaults to `globalThis.WebSocket` (absent on Node 20: pass `ws`'s). */
  WebSocket?: WebSocketConstructor;
  /** Give up (rejecting with `link_error`) when the socket is not open after this long. Default 5,000 ms. */
  timeoutMs?: number;
  /** Unreliable sends are dropped while more than this many bytes are buffered. Default 65,536. */
  unreliableDropBytes?: number;
  /** Largest incoming message, tag included; larger ones close the link with `frame_too_large`. Default 65,537. */
  maxFrameBytes?: number;
  /** Clock for the connect timeout. */
  clock?: Clock;
}

/**
 * Opens a WebSocket to `url` and resolves with an open Link. Rejects with `transport_unavailable` when
 * there is no WebSocket constructor, and with `link_error` when the connection fails or times out.
 */
export function connectWebSocket(url: string, options: ConnectWebSocketOptions = {}): Promise<Link> {
  const Ctor = options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
  if (!Ctor) {
    return Promise.reject(
      new NetloomError('transport_unavailable', 'no WebSocket constructor: pass one in options.WebSocket'),
    );
  }
  const clock = options.clock ?? systemClock;
  const timeoutMs = options.timeoutMs ?? 5_000;
  return new Promise<Link>((resolve, reject) => {
    let socket: WebSocketLike;
    try {
      socket = new Ctor(url);
    } catch (err) {
      reject(
        new NetloomError('link_error', `cannot open WebSocket to ${url}: ${messageOf(err)}`, { cause: err }),
      );
      return;
    }
    socket.binaryType = 'arraybuffer';
    let settled = false;
    const fail = (message: string): void => {
      if (settled) return;
      settled = true;
      clock.clearTimeout(timer);
      socket.onopen = null;
      socket.onclose = null;
      socket.onerror = () => {}; // `ws` emits one more error while aborting; keep it handled
      reject(new NetloomError('link_error', message));
    };
    const timer = clock.setTimeout(() => {
      fail(`WebSocket to ${url} not open after ${timeoutMs} ms`);
      socket.close();
    }, timeoutMs);
    socket.onopen = () => {
      if (settled) return;
      settled = true;
      clock.clearTimeout(timer);
      resolve(new WebSocketClientLink(socket, options));
    };
    socket.onerror = (event) => fail(`WebSocket to ${url} failed: ${messageOf(event)}`);
    socket.onclose = (event) => fail(`WebSocket to ${url} closed before opening (code ${event.code})`);
  });
}

/**
 * A Link over an open client WebSocket. Peer closes arrive as `link_closed`, or `normal` for code 1000.
 *
 * The link is handed over through a promise, and `ws` (Node) can emit a message in the same tick as
 * `open`, before the caller's `await` resumes. So frames and a close that arrive while `onframe` is not
 * yet set are held (the message buffers are the link's own, so without copying) and delivered in order
 * on a microtask once it is set.
 */
class WebSocketClientLink implements Link {
  readonly transport = 'websocket' as const;

  private closed = false;
  private frameHandler: ((frame: Uint8Array, channel: Channel) => void) | null = null;
  private closeHandler: ((info: LinkCloseInfo) => void) | null = null;
  private readonly inbox: LinkInbox = new LinkInbox(this.inboxTarget());
  private readonly counters = new LinkCounters();
  private readonly unreliableDropBytes: number;
  private readonly maxFrameBytes: number;

  constructor(
    private readonly socket: WebSocketLike,
    options: ConnectWebSocketOptions,
  ) {
    this.unreliableDropBytes = options.unreliableDropBytes ?? 65_536;
    this.maxFrameBytes = options.maxFrameBytes ?? 65_536 + 1;
    socket.onmessage = (event) => this.handleMessage(event.data);
    socket.onclose = (event) => this.handleClose(event.code, event.reason);
    socket.onerror = () => {}; // a close event always follows
  }

  get onframe(): ((frame: Uint8Array, channel: Channel) => void) | null {
    return this.frameHandler;
  }

  set onframe(handler: ((frame: Uint8Array, channel: Channel) => void) | null) {
    this.frameHandler = handler;
    this.inbox.release();
  }

  get onclose(): ((info: LinkCloseInfo) => void) | null {
    return this.closeHandler;
  }

  set onclose(handler: ((info: LinkCloseInfo) => void) | null) {
    this.closeHandler = handler;
    this.inbox.release();
  }

  get isOpen(): boolean {
    return !this.closed;
  }

  get bufferedBytes(): number {
    return this.socket.bufferedAmount;
  }

  send(channel: Channel, frame: Uint8Array): boolean {
    if (!this.admit(channel, frame.byteLength)) return false;
    const message = new Uint8Array(frame.byteLength + 1);
    message.set(frame, 1);
    return this.transmit(channel, message);
  }

  /** The copy-free path: the tag goes into the last of the caller's spare bytes. */
  sendWithSpare(channel: Channel, buffer: Uint8Array): boolean {
    if (!this.admit(channel, buffer.byteLength - FRAME_SPARE_BYTES)) return false;
    return this.transmit(channel, buffer.subarray(FRAME_SPARE_BYTES - 1));
  }

  private admit(channel: Channel, length: number): boolean {
    if (this.closed || this.socket.readyState !== OPEN) {
      if (channel === 'unreliable') this.counters.droppedOut++;
      return false;
    }
    if (length <= 0) return false;
    if (channel === 'unreliable' && this.socket.bufferedAmount > this.unreliableDropBytes) {
      this.counters.droppedOut++;
      return false;
    }
    return true;
  }

  /** Writes the tag into `message[0]` and sends the whole buffer. */
  private transmit(channel: Channel, message: Uint8Array): boolean {
    message[0] = channel === 'reliable' ? TAG_RELIABLE : TAG_UNRELIABLE;
    this.socket.send(message);
    this.counters.sent(channel, message.byteLength - 1);
    return true;
  }

  close(code: ErrorCode | 'normal' = 'normal', reason = ''): void {
    if (this.closed) return;
    this.closed = true;
    this.inbox.clear();
    this.socket.onmessage = null;
    if (code === 'normal') this.socket.close(CLOSE_NORMAL, truncateUtf8(reason));
    else this.socket.close(CLOSE_ERROR, truncateUtf8(reason ? `${code}: ${reason}` : code));
    this.closeHandler?.({ code, reason, local: true });
  }

  stats(): LinkStats {
    return this.counters.stats();
  }

  private handleMessage(data: unknown): void {
    if (this.closed) return;
    if (!(data instanceof ArrayBuffer)) {
      this.fail('frame_malformed', 'text message');
      return;
    }
    const length = data.byteLength;
    if (length > this.maxFrameBytes) {
      this.fail('frame_too_large', `message of ${length} bytes`);
      return;
    }
    if (length < 2) {
      this.fail('frame_malformed', 'empty frame');
      return;
    }
    const bytes = new Uint8Array(data);
    const tag = bytes[0];
    const channel: Channel | null =
      tag === TAG_RELIABLE ? 'reliable' : tag === TAG_UNRELIABLE ? 'unreliable' : null;
    if (channel === null) {
      this.fail('frame_malformed', `unknown channel tag ${tag}`);
      return;
    }
    const frame = bytes.subarray(1);
    if (this.inbox.mustHoldFrame) this.inbox.holdFrame(frame, channel);
    else this.deliver(frame, channel);
  }

  private deliver(frame: Uint8Array, channel: Channel): void {
    this.counters.received(channel, frame.byteLength);
    try {
      this.frameHandler?.(frame, channel);
    } catch (err) {
      this.fail('internal_error', `onframe threw: ${messageOf(err)}`);
    }
  }

  private handleClose(code: number, reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.remoteClose({ code: code === CLOSE_NORMAL ? 'normal' : 'link_closed', reason, local: false });
  }

  /** Ends the link for a reason found on this side and tells the server the code. */
  private fail(code: ErrorCode, reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.onmessage = null;
    this.socket.close(CLOSE_ERROR, truncateUtf8(`${code}: ${reason}`));
    this.remoteClose({ code, reason, local: false });
  }

  /** A close the owner did not ask for: delivered after any held frames. */
  private remoteClose(info: LinkCloseInfo): void {
    if (this.inbox.mustHoldClose) this.inbox.holdClose(info);
    else this.closeHandler?.(info);
  }

  private inboxTarget(): InboxTarget {
    return {
      canTakeFrames: () => this.frameHandler !== null,
      canTakeClose: () => this.closeHandler !== null,
      deliverFrame: (frame, channel) => this.deliver(frame, channel),
      deliverClose: (info) => this.closeHandler?.(info),
    };
  }
}

function messageOf(value: unknown): string {
  if (value instanceof Error) return value.message;
  if (typeof value === 'object' && value !== null && 'message' in value) return String(value.message);
  return String(value);
}
