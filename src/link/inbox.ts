// LinkInbox: holds frames and a close that arrive before a link's owner set its handlers, and hands them over in order.
import type { Channel, LinkCloseInfo } from './link.js';

type Held = { frame: Uint8Array; channel: Channel } | { close: LinkCloseInfo };

/** Where held events go once the owner is ready. */
export interface InboxTarget {
  /** True when the owner's frame handler is set. */
  canTakeFrames(): boolean;
  /** True when the owner's close handler is set. */
  canTakeClose(): boolean;
  /** Delivers one held frame (the link counts it and guards the handler). */
  deliverFrame(frame: Uint8Array, channel: Channel): void;
  /** Delivers the held close. */
  deliverClose(info: LinkCloseInfo): void;
}

/**
 * A link is handed over through a promise, and its transport can deliver frames (and even a close) in
 * the same tick as "open", before the owner's `await` resumes and sets `onframe`. The inbox keeps
 * them, in arrival order, and releases them on a microtask once the matching handler is set. A frame
 * that arrives while others are held is held too, so order is kept.
 */
export class LinkInbox {
  private readonly held: Held[] = [];
  private releaseQueued = false;
  /** Bytes of the frames held now. */
  heldBytes = 0;

  constructor(private readonly target: InboxTarget) {}

  /** True when a frame must wait: no handler yet, or earlier events still wait. */
  get mustHoldFrame(): boolean {
    return !this.target.canTakeFrames() || this.held.length > 0;
  }

  /** True when a close must wait behind held frames or for its handler. */
  get mustHoldClose(): boolean {
    return !this.target.canTakeClose() || this.held.length > 0;
  }

  holdFrame(frame: Uint8Array, channel: Channel): void {
    this.held.push({ frame, channel });
    this.heldBytes += frame.byteLength;
  }

  holdClose(info: LinkCloseInfo): void {
    this.held.push({ close: info });
  }

  /** Forgets everything held (the link closed locally). */
  clear(): void {
    this.held.length = 0;
    this.heldBytes = 0;
  }

  /** Call when a handler was set: releases what can go, on a microtask. */
  release(): void {
    if (this.releaseQueued || this.held.length === 0) return;
    this.releaseQueued = true;
    queueMicrotask(() => {
      this.releaseQueued = false;
      while (this.held.length > 0) {
        const item = this.held[0];
        if ('close' in item) {
          if (!this.target.canTakeClose()) return;
          this.held.shift();
          this.target.deliverClose(item.close);
        } else {
          if (!this.target.canTakeFrames()) return;
          this.held.shift();
          this.heldBytes -= item.frame.byteLength;
          this.target.deliverFrame(item.frame, item.channel);
        }
      }
    });
  }
}
