// RelayLink: a Link to one peer through the server (PEER messages on the client's session), the path a peer pair always has.
import type { ErrorCode } from '../../codec/errors.js';
import {
  type Channel,
  type Link,
  type LinkCloseInfo,
  LinkCounters,
  type LinkStats,
  type TransportName,
} from '../../link/link.js';

/**
 * The relay path of a peer pair. Frames sent on it travel as PEER messages on the client's session with
 * the server (reliable ones in RELIABLE frames, so the session keeps them across its own resumes), and the
 * server forwards them to the peer under the room's policy. It stays open as long as the pair exists.
 */
export class RelayLink implements Link {
  onframe: ((frame: Uint8Array, channel: Channel) => void) | null = null;
  onclose: ((info: LinkCloseInfo) => void) | null = null;
  private open = true;
  private readonly counters = new LinkCounters();

  constructor(
    /** Hands a frame to the session; false when it was not sent. */
    private readonly forward: (frame: Uint8Array, reliable: boolean) => boolean,
    /** The transport carrying the session now. */
    private readonly carrier: () => TransportName | null,
  ) {}

  get transport(): TransportName {
    return this.carrier() ?? 'websocket';
  }

  get isOpen(): boolean {
    return this.open;
  }

  get bufferedBytes(): number {
    return 0;
  }

  send(channel: Channel, frame: Uint8Array): boolean {
    if (!this.open || frame.length === 0) {
      if (channel === 'unreliable') this.counters.droppedOut++;
      return false;
    }
    const sent = this.forward(frame, channel === 'reliable');
    if (!sent) {
      if (channel === 'unreliable') this.counters.droppedOut++;
      return channel === 'reliable'; // a reliable frame stays in the pair's resend buffer either way
    }
    this.counters.sent(channel, frame.length);
    return true;
  }

  /** A frame the server relayed from the peer. */
  deliver(frame: Uint8Array, channel: Channel): void {
    if (!this.open) return;
    this.counters.received(channel, frame.length);
    this.onframe?.(frame, channel);
  }

  close(code: ErrorCode | 'normal' = 'normal', reason = ''): void {
    if (!this.open) return;
    this.open = false;
    this.onclose?.({ code, reason, local: true });
  }

  stats(): LinkStats {
    return this.counters.stats();
  }
}
