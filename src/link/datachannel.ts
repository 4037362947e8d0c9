// A Link over two open WebRTC datachannels (browser or werift): frames, congestion drops, close notices, stats.
import type { ErrorCode } from '../codec/errors.js';
import { definedOnly } from '../shared/options.js';
import { type DataChannelLike, encodeNotice, MAX_NOTICE_CHARS, parseNotice } from './datachannel-channels.js';
import { LinkInbox } from './inbox.js';
import { type Channel, type Link, type LinkCloseInfo, LinkCounters, type LinkStats } from './link.js';

export * from './datachannel-channels.js';

export interface DataChannelLinkOptions {
  /** Unreliable sends are dropped while both channels together buffer more than this. Default 65,536. */
  unreliableDropBytes?: number;
  /** A reliable send that would take the buffered bytes above this closes the link with `slow_consumer`. Default 4 MiB. */
  maxBufferedBytes?: number;
  /** Largest frame accepted from the peer; larger ones close the link with `frame_too_large`. Default 65,536. */
  maxFrameBytes?: number;
  /** Largest frame this side sends: a larger reliable frame closes the link (`message_too_large`); a larger unreliable one is dropped. Default 65,536 (werift's and the SDP default max-message-size). */
  maxSendBytes?: number;
  /** Bytes held for the owner before it sets `onframe`; beyond this the link closes with `buffer_overflow`. Default 1 MiB. */
  maxHeldBytes?: number;
  /**
   * Most bytes handed to one datachannel at a time (a single larger frame may go alone); the link queues
   * further reliable frames itself and drops further unreliable ones. Default 16 KiB. werift slows down
   * sharply, even stalling for seconds, when thousands of messages wait in its datachannel queue.
   */
  feedBytes?: number;
  /** Most messages handed to one datachannel at a time (see `feedBytes`). Default 32. */
  feedMessages?: number;
}

export const DATACHANNEL_LINK_DEFAULTS: Required<DataChannelLinkOptions> = {
  unreliableDropBytes: 65_536,
  maxBufferedBytes: 4 * 1024 * 1024,
  maxFrameBytes: 65_536,
  maxSendBytes: 65_536,
  maxHeldBytes: 1024 * 1024,
  feedBytes: 16 * 1024,
  feedMessages: 32,
};

/**
 * A Link over a `reliable` (ordered) and an `unreliable` (unordered, no retransmits) datachannel, both
 * open when it is constructed. Frames travel as binary messages, one frame per message. A close travels
 * as a text message on the reliable channel (`{"close":code,"reason":...}`), after every frame sent
 * before it; the peer reports it as `normal`, or as `link_closed` with `code: reason` for any other code.
 * A datachannel that closes without a notice (peer gone, ICE or DTLS failure) ends the link with
 * `link_closed`; the owner reports transport failures through `terminate`.
 *
 * Frames and a close that arrive before the owner has set its handlers are held (up to `maxHeldBytes`)
 * and delivered in order on a microtask once it does, so a link handed over through a promise loses nothing.
 */
export class DataChannelLink implements Link {
  readonly transport = 'webrtc' as const;

  private closed = false;
  private frameHandler: ((frame: Uint8Array, channel: Channel) => void) | null = null;
  private closeHandler: ((info: LinkCloseInfo) => void) | null = null;
  private readonly inbox: LinkInbox = new LinkInbox({
    canTakeFrames: () => this.frameHandler !== null,
    canTakeClose: () => this.closeHandler !== null,
    deliverFrame: (frame, channel) => this.deliver(frame, channel),
    deliverClose: (info) => this.closeHandler?.(info),
  });
  private readonly counters = new LinkCounters();
  private readonly limits: Required<DataChannelLinkOptions>;
  /** Reliable frames (copies) and a final close notice waiting for the reliable datachannel to drain. */
  private readonly queue: Array<Uint8Array | string> = [];
  private queuedBytes = 0;
  /** Messages handed to each datachannel since it was last seen empty. */
  private readonly fed: Record<Channel, number> = { reliable: 0, unreliable: 0 };

  /**
   * `onEnd` runs once when the link ends for any reason: the owner closes the channels and their peer
   * connection there. `flush` is true when this side sent a close notice that should reach the peer first
   * (see `closeDataChannels`); false when the peer or the transport already ended it.
   */
  constructor(
    private readonly reliable: DataChannelLike,
    private readonly unreliable: DataChannelLike,
    options: DataChannelLinkOptions = {},
    private readonly onEnd: (info: LinkCloseInfo, flush: boolean) => void = () => {},
  ) {
    this.limits = { ...DATACHANNEL_LINK_DEFAULTS, ...definedOnly(options) };
    for (const [channel, dc] of [
      ['reliable', reliable],
      ['unreliable', unreliable],
    ] as const) {
      dc.binaryType = 'arraybuffer';
      dc.onmessage = (event) => this.handleMessage(channel, event.data);
      dc.onclose = () => this.terminate('link_closed', `${channel} datachannel closed`);
      dc.onerror = (event) =>
        this.terminate('link_error', `${channel} datachannel error: ${messageOf(event)}`);
    }
    reliable.bufferedAmountLowThreshold = 0;
    reliable.addEventListener('bufferedamountlow', this.drain);
    if (reliable.readyState !== 'open' || unreliable.readyState !== 'open') {
      queueMicrotask(() => this.terminate('link_closed', 'datachannel was not open'));
    }
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
    return this.reliable.bufferedAmount + this.unreliable.bufferedAmount + this.queuedBytes;
  }

  /** Bytes the link still holds back for the reliable datachannel (a close waits for them; see `closeDataChannels`). */
  get unsentBytes(): number {
    return this.queuedBytes + this.reliable.bufferedAmount;
  }

  send(channel: Channel, frame: Uint8Array): boolean {
    const length = frame.byteLength;
    if (this.closed) {
      if (channel === 'unreliable') this.counters.droppedOut++;
      return false;
    }
    if (length <= 0) return false;
    const buffered = this.bufferedBytes;
    if (channel === 'unreliable') {
      if (
        buffered > this.limits.unreliableDropBytes ||
        length > this.limits.maxSendBytes ||
        !this.mayFeed(this.unreliable, 'unreliable', length)
      ) {
        this.counters.droppedOut++;
        return false;
      }
    } else if (length > this.limits.maxSendBytes) {
      this.fail('message_too_large', `reliable frame of ${length} bytes (limit ${this.limits.maxSendBytes})`);
      return false;
    } else if (buffered + length > this.limits.maxBufferedBytes) {
      this.fail('slow_consumer', `send buffer would exceed ${this.limits.maxBufferedBytes} bytes`);
      return false;
    }
    const view = new Uint8Array(frame.buffer, frame.byteOffset, length);
    if (
      channel === 'reliable' &&
      (this.queue.length > 0 || !this.mayFeed(this.reliable, 'reliable', length))
    ) {
      this.queue.push(view.slice());
      this.queuedBytes += length;
      this.counters.sent('reliable', length);
      return true;
    }
    try {
      // A plain view (never a Buffer): browsers copy on send, werift copies anything that is not a Buffer.
      this.hand(channel, view);
    } catch (err) {
      if (channel === 'unreliable') {
        this.counters.droppedOut++;
        return false;
      }
      this.fail('link_error', `reliable send failed: ${messageOf(err)}`);
      return false;
    }
    this.counters.sent(channel, length);
    return true;
  }

  /** Hands a message to a datachannel (throws what the datachannel throws). */
  private hand(channel: Channel, data: Uint8Array | string): void {
    const dc = channel === 'reliable' ? this.reliable : this.unreliable;
    (dc.send as (data: Uint8Array | string) => void)(data);
    this.fed[channel]++;
  }

  /** Whether a message of `length` bytes may go to `dc` now (see `feedBytes`). */
  private mayFeed(dc: DataChannelLike, channel: Channel, length: number): boolean {
    const buffered = dc.bufferedAmount;
    if (buffered === 0) this.fed[channel] = 0;
    return (
      this.fed[channel] < this.limits.feedMessages &&
      (buffered === 0 || buffered + length <= this.limits.feedBytes)
    );
  }

  /** The reliable datachannel has sent everything: hand it the next queued frames (and a queued close notice). */
  private readonly drain = (): void => {
    this.fed.reliable = 0;
    while (this.queue.length > 0) {
      const item = this.queue[0];
      const length = typeof item === 'string' ? item.length : item.byteLength;
      if (!this.mayFeed(this.reliable, 'reliable', length)) return;
      this.queue.shift();
      if (typeof item !== 'string') this.queuedBytes -= length;
      try {
        this.hand('reliable', item);
      } catch (err) {
        this.dispose();
        this.fail('link_error', `reliable send failed: ${messageOf(err)}`);
        return;
      }
    }
  };

  /** Drops whatever is still queued and stops draining. The owner calls it once the channels are closed. */
  dispose(): void {
    this.queue.length = 0;
    this.queuedBytes = 0;
    this.reliable.removeEventListener('bufferedamountlow', this.drain);
  }

  close(code: ErrorCode | 'normal' = 'normal', reason = ''): void {
    if (this.closed) return;
    this.closed = true;
    this.inbox.clear();
    this.sendNotice(code, reason);
    this.detach();
    this.closeHandler?.({ code, reason, local: true });
    this.onEnd({ code, reason, local: true }, true);
  }

  /**
   * Ends the link for a reason found below it (a channel or the peer connection failed, the peer went
   * away): `onclose` reports `code` with `local: false`. Nothing is sent. Idempotent; used by the peers.
   */
  terminate(code: ErrorCode, reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.dispose();
    this.detach();
    this.remoteClose({ code, reason, local: false }, false);
  }

  stats(): LinkStats {
    return this.counters.stats();
  }

  private handleMessage(channel: Channel, data: unknown): void {
    if (this.closed) return;
    if (typeof data === 'string') {
      this.handleNotice(channel, data);
      return;
    }
    let frame: Uint8Array;
    if (data instanceof ArrayBuffer) frame = new Uint8Array(data);
    else if (ArrayBuffer.isView(data)) frame = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    else {
      this.fail('frame_malformed', `unexpected ${channel} message type`);
      return;
    }
    const length = frame.byteLength;
    if (length === 0) {
      this.fail('frame_malformed', 'empty frame');
      return;
    }
    if (length > this.limits.maxFrameBytes) {
      this.fail('frame_too_large', `message of ${length} bytes`);
      return;
    }
    if (this.inbox.mustHoldFrame) {
      if (this.inbox.heldBytes + length > this.limits.maxHeldBytes) {
        this.fail(
          'buffer_overflow',
          `more than ${this.limits.maxHeldBytes} bytes arrived before onframe was set`,
        );
        return;
      }
      this.inbox.holdFrame(frame, channel);
      this.inbox.release();
    } else this.deliver(frame, channel);
  }

  /** A text message: only a close notice on the reliable channel is valid. */
  private handleNotice(channel: Channel, text: string): void {
    const notice = channel === 'reliable' && text.length <= MAX_NOTICE_CHARS ? parseNotice(text) : null;
    if (notice === null) {
      this.fail('frame_malformed', `unexpected text message on the ${channel} channel`);
      return;
    }
    this.closed = true;
    this.dispose();
    this.detach();
    const info: LinkCloseInfo =
      notice.code === 'normal'
        ? { code: 'normal', reason: notice.reason, local: false }
        : {
            code: 'link_closed',
            reason: notice.reason ? `${notice.code}: ${notice.reason}` : notice.code,
            local: false,
          };
    this.remoteClose(info, false);
  }

  private deliver(frame: Uint8Array, channel: Channel): void {
    this.counters.received(channel, frame.byteLength);
    try {
      this.frameHandler?.(frame, channel);
    } catch (err) {
      this.fail('internal_error', `onframe threw: ${messageOf(err)}`);
    }
  }

  /** Ends the link for a reason found on this side and tells the peer the code. */
  private fail(code: ErrorCode, reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.sendNotice(code, reason);
    this.detach();
    this.remoteClose({ code, reason, local: false }, true);
  }

  /** Sends the close notice after every queued frame. */
  private sendNotice(code: ErrorCode | 'normal', reason: string): void {
    if (this.reliable.readyState !== 'open') return;
    const notice = encodeNotice(code, reason);
    if (this.queue.length > 0) {
      this.queue.push(notice);
      return;
    }
    try {
      this.hand('reliable', notice);
    } catch {
      // the channel is going away anyway; the peer sees the channel close instead
    }
  }

  /** Stops listening to the channels (their close events would otherwise end the link twice). */
  private detach(): void {
    for (const dc of [this.reliable, this.unreliable]) {
      dc.onmessage = null;
      dc.onclose = null;
      dc.onerror = null;
    }
  }

  /** A close the owner did not ask for: delivered after any held frames, then `onEnd`. */
  private remoteClose(info: LinkCloseInfo, flush: boolean): void {
    if (this.inbox.mustHoldClose) {
      this.inbox.holdClose(info);
      this.inbox.release();
    } else this.closeHandler?.(info);
    this.onEnd(info, flush);
  }
}

function messageOf(value: unknown): string {
  if (value instanceof Error) return value.message;
  if (typeof value === 'object' && value !== null) {
    const { error, message } = value as { error?: unknown; message?: unknown };
    if (error instanceof Error) return error.message;
    if (typeof message === 'string') return message;
  }
  return String(value);
}
