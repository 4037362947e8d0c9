// The Link bookkeeping of the WebTransport server link: counters, frames held until handlers are set, close-once, close codes.
import { type ErrorCode, NetloomError } from '../../../codec/errors.js';
import { LinkInbox } from '../../../link/inbox.js';
import {
  type Channel,
  type Link,
  type LinkCloseInfo,
  LinkCounters,
  type LinkStats,
} from '../../../link/link.js';

export interface WebTransportLinkStats extends LinkStats {
  /** Unreliable frames refused because they did not fit in a datagram (`datagram_too_large`). */
  datagramsTooLarge: number;
}

/**
 * Bookkeeping of a WebTransport link: counters, frames and a close held until the owner sets
 * its handlers (the link is handed over through a promise), close-once.
 */
export abstract class WebTransportLinkBase extends LinkCounters implements Link {
  readonly transport = 'webtransport' as const;
  protected closed = false;
  protected datagramsTooLarge = 0;
  /** True once frames go straight to the handler: it is set and nothing is held (one field read per frame). */
  private direct = false;
  /** The error of the last refused send (`datagram_too_large`, `message_too_large`), for the owner's logs. */
  lastSendError: NetloomError | null = null;
  private frameHandler: ((frame: Uint8Array, channel: Channel) => void) | null = null;
  private closeHandler: ((info: LinkCloseInfo) => void) | null = null;
  private readonly inbox: LinkInbox = new LinkInbox({
    canTakeFrames: () => this.frameHandler !== null,
    canTakeClose: () => this.closeHandler !== null,
    deliverFrame: (frame, channel) => this.deliver(frame, channel),
    deliverClose: (info) => this.closeHandler?.(info),
  });

  constructor(protected readonly maxHeldBytes: number) {
    super();
  }

  abstract readonly bufferedBytes: number;
  abstract send(channel: Channel, frame: Uint8Array): boolean;
  /** Sends the close to the peer and releases the transport. */
  protected abstract shutdown(code: ErrorCode | 'normal', reason: string): void;

  get isOpen(): boolean {
    return !this.closed;
  }

  get onframe(): ((frame: Uint8Array, channel: Channel) => void) | null {
    return this.frameHandler;
  }

  set onframe(handler: ((frame: Uint8Array, channel: Channel) => void) | null) {
    this.frameHandler = handler;
    this.direct = false;
    this.inbox.release();
  }

  get onclose(): ((info: LinkCloseInfo) => void) | null {
    return this.closeHandler;
  }

  set onclose(handler: ((info: LinkCloseInfo) => void) | null) {
    this.closeHandler = handler;
    this.inbox.release();
  }

  close(code: ErrorCode | 'normal' = 'normal', reason = ''): void {
    if (this.closed) return;
    this.closed = true;
    this.inbox.clear();
    this.shutdown(code, reason);
    this.closeHandler?.({ code, reason, local: true });
  }

  override stats(): WebTransportLinkStats {
    return { ...super.stats(), datagramsTooLarge: this.datagramsTooLarge };
  }

  /** Refuses an unreliable frame that does not fit in a datagram. */
  protected refuseTooLarge(length: number, limit: number): false {
    this.droppedOut++;
    this.datagramsTooLarge++;
    this.lastSendError = new NetloomError(
      'datagram_too_large',
      `unreliable frame of ${length} bytes does not fit in a datagram (limit ${limit}); send it reliably`,
    );
    return false;
  }

  /** A frame from the peer: delivered now, or held until `onframe` is set. */
  protected receive(frame: Uint8Array, channel: Channel, copyWhenHeld: boolean): void {
    if (this.closed || frame.length === 0) return;
    if (!this.direct) {
      if (this.inbox.mustHoldFrame) {
        if (this.inbox.heldBytes + frame.length > this.maxHeldBytes) {
          this.fail('buffer_overflow', `more than ${this.maxHeldBytes} bytes arrived before onframe was set`);
          return;
        }
        this.inbox.holdFrame(copyWhenHeld ? frame.slice() : frame, channel);
        this.inbox.release();
        return;
      }
      this.direct = true;
    }
    this.deliver(frame, channel);
  }

  private deliver(frame: Uint8Array, channel: Channel): void {
    this.received(channel, frame.length);
    try {
      this.frameHandler?.(frame, channel);
    } catch (err) {
      this.fail('internal_error', `onframe threw: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  /** Ends the link for a reason found on this side; the peer gets the code. */
  protected fail(code: ErrorCode, reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.shutdown(code, reason);
    this.remoteClose({ code, reason, local: false });
  }

  /** The peer or the transport ended the link (nothing is sent). */
  protected ended(info: LinkCloseInfo): void {
    if (this.closed) return;
    this.closed = true;
    this.remoteClose(info);
  }

  private remoteClose(info: LinkCloseInfo): void {
    if (this.inbox.mustHoldClose) {
      this.inbox.holdClose(info);
      this.inbox.release();
    } else this.closeHandler?.(info);
  }
}

/** Close capsule code of an orderly close; any other code is an error close. */
export const WT_CLOSE_NORMAL = 0;
export const WT_CLOSE_ERROR = 1;
/** The close capsule's code and message for a local close. */
export function encodeWtClose(
  code: ErrorCode | 'normal',
  reason: string,
): { closeCode: number; reason: string } {
  if (code === 'normal') return { closeCode: WT_CLOSE_NORMAL, reason };
  return { closeCode: WT_CLOSE_ERROR, reason: reason ? `${code}: ${reason}` : code };
}

/** How a peer's close capsule is reported: `normal` for code 0, else `link_closed` with the peer's message. */
export function decodeWtClose(closeCode: number, reason: string): LinkCloseInfo {
  return closeCode === WT_CLOSE_NORMAL
    ? { code: 'normal', reason, local: false }
    : { code: 'link_closed', reason, local: false };
}
