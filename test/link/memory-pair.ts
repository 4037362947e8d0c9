// Test helper: two in-memory Links wired to each other, delivering frames asynchronously and in order.
import type { ErrorCode } from '../../src/codec/errors.js';
import {
  type Channel,
  type Link,
  type LinkCloseInfo,
  LinkCounters,
  type LinkStats,
} from '../../src/link/link.js';

type Item = { frame: Uint8Array; channel: Channel } | { close: LinkCloseInfo };

/**
 * One end of an in-memory pair. Frames are copied on send and delivered on a later microtask, in
 * order on both channels; nothing is ever dropped. A close reaches the peer after the frames sent
 * before it, as `normal` or `link_closed` with the same reason (as on WebSocket).
 */
export class MemoryLink implements Link {
  /** The pair pretends to be a WebSocket; Link has no name for an in-memory transport. */
  readonly transport = 'websocket' as const;
  onframe: ((frame: Uint8Array, channel: Channel) => void) | null = null;
  onclose: ((info: LinkCloseInfo) => void) | null = null;
  peer: MemoryLink | null = null;

  private closed = false;
  private readonly counters = new LinkCounters();
  private readonly inbox: Item[] = [];
  private flushing = false;
  /** Bytes this side sent that the peer has not yet received. */
  private inFlight = 0;

  get isOpen(): boolean {
    return !this.closed;
  }

  get bufferedBytes(): number {
    return this.inFlight;
  }

  send(channel: Channel, frame: Uint8Array): boolean {
    if (this.closed || !this.peer) {
      if (channel === 'unreliable') this.counters.droppedOut++;
      return false;
    }
    if (frame.byteLength === 0) return false;
    this.counters.sent(channel, frame.byteLength);
    this.inFlight += frame.byteLength;
    this.peer.enqueue({ frame: new Uint8Array(frame), channel });
    return true;
  }

  close(code: ErrorCode | 'normal' = 'normal', reason = ''): void {
    if (this.closed) return;
    this.closed = true;
    this.peer?.enqueue({
      close: { code: code === 'normal' ? 'normal' : 'link_closed', reason, local: false },
    });
    this.onclose?.({ code, reason, local: true });
  }

  stats(): LinkStats {
    return this.counters.stats();
  }

  private enqueue(item: Item): void {
    this.inbox.push(item);
    if (this.flushing) return;
    this.flushing = true;
    queueMicrotask(() => this.flush());
  }

  private flush(): void {
    this.flushing = false;
    const items = this.inbox.splice(0);
    for (const item of items) {
      if ('close' in item) {
        if (this.closed) continue;
        this.closed = true;
        this.onclose?.(item.close);
        continue;
      }
      if (this.peer) this.peer.inFlight -= item.frame.byteLength;
      if (this.closed) continue;
      this.counters.received(item.channel, item.frame.byteLength);
      this.onframe?.(item.frame, item.channel);
    }
  }
}

/** Two MemoryLinks connected to each other. */
export function createMemoryLinkPair(): { client: MemoryLink; server: MemoryLink } {
  const client = new MemoryLink();
  const server = new MemoryLink();
  client.peer = server;
  server.peer = client;
  return { client, server };
}
