// The Link boundary: one transport connection moving opaque byte frames on a reliable and an unreliable channel.
import type { ErrorCode } from '../codec/errors.js';

/** `reliable` is ordered and loss-free while the link is up; `unreliable` may drop and never blocks it. */
export type Channel = 'reliable' | 'unreliable';

export type TransportName = 'websocket' | 'webrtc' | 'webtransport';

/** Why a link closed. `code` is `normal` for an orderly close, otherwise a stable error code. */
export interface LinkCloseInfo {
  code: ErrorCode | 'normal';
  reason: string;
  /** True when this side called `close()`; false when the peer or the network ended it. */
  local: boolean;
}

export interface ChannelCounters {
  reliable: number;
  unreliable: number;
}

export interface LinkStats {
  /** Payload bytes received (frames as handed to `onframe`), per channel. */
  bytesIn: ChannelCounters;
  /** Payload bytes accepted by `send`, per channel. */
  bytesOut: ChannelCounters;
  framesIn: ChannelCounters;
  framesOut: ChannelCounters;
  /** Unreliable frames dropped by `send` because the link was congested or closed. */
  droppedOut: number;
}

/**
 * One open transport connection. A Link is handed over already open; after `onclose` fires
 * it never fires `onframe` again and `send` returns false. It knows nothing of sessions or rooms.
 */
export interface Link {
  readonly transport: TransportName;
  /** True until the link closes (locally or remotely). */
  readonly isOpen: boolean;
  /** Bytes queued on this side but not yet handed to the network (0 when unknown). */
  readonly bufferedBytes: number;
  /**
   * Queues a frame. Reliable frames are delivered in order or the link closes; unreliable frames
   * are dropped (returning false) when the link is congested. Returns false when nothing was sent.
   */
  send(channel: Channel, frame: Uint8Array): boolean;
  /**
   * Optional fast path with the same meaning as `send(channel, buffer.subarray(FRAME_SPARE_BYTES))`:
   * the first FRAME_SPARE_BYTES bytes are spare space the link may overwrite (the WebSocket link
   * writes its channel tag and WebSocket header there, and so sends each frame without a copy).
   * The caller gives up those bytes; the frame after them is not modified.
   */
  sendWithSpare?(channel: Channel, buffer: Uint8Array): boolean;
  /**
   * Optional: the sends until `uncork` may be written to the network together (one syscall, one packet).
   * Calls nest in pairs; the session brackets a waiting ACK or PING and the data frame it rides with.
   */
  cork?(): void;
  /** Ends a `cork`: what was held goes out now. */
  uncork?(): void;
  /** Closes the link; `onclose` fires once with `local: true`. Idempotent. */
  close(code?: ErrorCode | 'normal', reason?: string): void;
  /** Called for every frame received, in order per channel. The frame is only valid during the call. */
  onframe: ((frame: Uint8Array, channel: Channel) => void) | null;
  /** Called exactly once when the link closes. */
  onclose: ((info: LinkCloseInfo) => void) | null;
  stats(): LinkStats;
}

/** Bytes the session leaves free before every frame it sends (see `Link.sendWithSpare`). */
export const FRAME_SPARE_BYTES = 5;

/**
 * A link's traffic counters as flat number fields: the base class of a server Link (so the per-frame
 * updates touch only the link itself) or a field of any other. No keyed lookups (`counters[channel]++`
 * on nested objects costs a megamorphic load and another object per frame). Gives the Link's `stats()`.
 */
export class LinkCounters {
  reliableBytesIn = 0;
  unreliableBytesIn = 0;
  reliableFramesIn = 0;
  unreliableFramesIn = 0;
  reliableBytesOut = 0;
  unreliableBytesOut = 0;
  reliableFramesOut = 0;
  unreliableFramesOut = 0;
  droppedOut = 0;

  received(channel: Channel, bytes: number): void {
    if (channel === 'unreliable') {
      this.unreliableFramesIn++;
      this.unreliableBytesIn += bytes;
    } else {
      this.reliableFramesIn++;
      this.reliableBytesIn += bytes;
    }
  }

  sent(channel: Channel, bytes: number): void {
    if (channel === 'unreliable') {
      this.unreliableFramesOut++;
      this.unreliableBytesOut += bytes;
    } else {
      this.reliableFramesOut++;
      this.reliableBytesOut += bytes;
    }
  }

  /** A snapshot in the shape of `Link.stats()`. */
  stats(): LinkStats {
    return {
      bytesIn: { reliable: this.reliableBytesIn, unreliable: this.unreliableBytesIn },
      bytesOut: { reliable: this.reliableBytesOut, unreliable: this.unreliableBytesOut },
      framesIn: { reliable: this.reliableFramesIn, unreliable: this.unreliableFramesIn },
      framesOut: { reliable: this.reliableFramesOut, unreliable: this.unreliableFramesOut },
      droppedOut: this.droppedOut,
    };
  }
}

/** Sends a frame held after FRAME_SPARE_BYTES spare bytes, through the link's copy-free path when it has one. */
export function sendSpared(link: Link, channel: Channel, spared: Uint8Array): boolean {
  return link.sendWithSpare
    ? link.sendWithSpare(channel, spared)
    : link.send(channel, spared.subarray(FRAME_SPARE_BYTES));
}

/** Copies a frame behind FRAME_SPARE_BYTES spare bytes (for the rare frames not encoded that way). */
export function withSpare(frame: Uint8Array): Uint8Array {
  const spared = new Uint8Array(frame.length + FRAME_SPARE_BYTES);
  spared.set(frame, FRAME_SPARE_BYTES);
  return spared;
}
