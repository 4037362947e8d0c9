// Test helper: two in-memory QuicConnections wired to each other, with ordered streams, datagrams and flow-control back-pressure.
import type { QuicConnection } from '../../src/server/transports/webtransport/quic.js';

export interface FakeQuicOptions {
  /** Bytes a stream may have in flight (sent, not yet delivered); writeStream takes at most the rest. Default 256 KiB. */
  streamWindow?: number;
  /** Largest datagram (seam's maxDatagramSize). Default 1,200. */
  maxDatagramSize?: number;
  /** Datagrams queued towards the peer at most; more are refused. Default 1,024. */
  maxQueuedDatagrams?: number;
  /** Drop every n-th datagram (0: none). */
  dropEvery?: number;
}

type Event =
  | { kind: 'stream'; id: number; data: Uint8Array; fin: boolean; from: FakeQuic | null }
  | { kind: 'reset'; id: number; code: number }
  | { kind: 'datagram'; data: Uint8Array; from: FakeQuic | null }
  | { kind: 'close'; code: number; reason: string };

/**
 * One end of an in-memory QUIC connection. Everything sent is copied and delivered to the peer in send
 * order on a later macrotask. Stream bytes count against the stream's window until delivered; a write that
 * was cut short gets `onstreamwritable` once bytes were delivered.
 */
export class FakeQuic implements QuicConnection {
  onstreamdata: ((streamId: number, data: Uint8Array, fin: boolean) => void) | null = null;
  onstreamwritable: ((streamId: number) => void) | null = null;
  onstreamreset: ((streamId: number, code: number) => void) | null = null;
  ondatagram: ((data: Uint8Array) => void) | null = null;
  onclose: ((info: { code: number; reason: string; local: boolean }) => void) | null = null;
  peer!: FakeQuic;
  closed = false;
  readonly remote = { host: '127.0.0.1', port: 4433 };
  readonly maxDatagramSize: number;
  /** Every stream write and datagram this side sent (for hostile tests and assertions). */
  sentDatagrams = 0;
  private nextBidi: number;
  private nextUni: number;
  private readonly inFlight = new Map<number, number>();
  private readonly blocked = new Set<number>();
  private readonly inbox: Event[] = [];
  private scheduled = false;
  private queuedDatagrams = 0;
  private readonly window: number;
  private readonly maxQueued: number;
  private readonly dropEvery: number;
  private readonly finished = new Set<number>();

  constructor(
    readonly isClient: boolean,
    options: FakeQuicOptions = {},
  ) {
    this.nextBidi = isClient ? 0 : 1;
    this.nextUni = isClient ? 2 : 3;
    this.window = options.streamWindow ?? 256 * 1024;
    this.maxDatagramSize = options.maxDatagramSize ?? 1_200;
    this.maxQueued = options.maxQueuedDatagrams ?? 1_024;
    this.dropEvery = options.dropEvery ?? 0;
  }

  writeStream(streamId: number, data: Uint8Array, fin = false): number {
    if (this.closed) throw new Error('connection closed');
    if (this.finished.has(streamId)) throw new Error(`stream ${streamId} finished`);
    const used = this.inFlight.get(streamId) ?? 0;
    const take = Math.min(data.length, Math.max(0, this.window - used));
    if (take < data.length) this.blocked.add(streamId);
    const allFin = fin && take === data.length;
    if (take === 0 && !allFin) return 0;
    if (allFin) this.finished.add(streamId);
    this.inFlight.set(streamId, used + take);
    this.peer.enqueue({ kind: 'stream', id: streamId, data: data.slice(0, take), fin: allFin, from: this });
    return take;
  }

  openStream(bidirectional: boolean): number {
    if (bidirectional) {
      const id = this.nextBidi;
      this.nextBidi += 4;
      return id;
    }
    const id = this.nextUni;
    this.nextUni += 4;
    return id;
  }

  resetStream(streamId: number, code: number): void {
    if (this.closed) return;
    this.finished.add(streamId);
    this.peer.enqueue({ kind: 'reset', id: streamId, code });
  }

  sendDatagram(data: Uint8Array): boolean {
    if (this.closed || data.length > this.maxDatagramSize || this.queuedDatagrams >= this.maxQueued)
      return false;
    this.sentDatagrams++;
    if (this.dropEvery > 0 && this.sentDatagrams % this.dropEvery === 0) return true;
    this.queuedDatagrams++;
    this.peer.enqueue({ kind: 'datagram', data: data.slice(), from: this });
    return true;
  }

  close(code: number, reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.peer.enqueue({ kind: 'close', code, reason });
    setImmediate(() => this.onclose?.({ code, reason, local: true }));
  }

  /** Test hook: raw bytes on a stream as if the peer sent them. */
  inject(streamId: number, data: Uint8Array, fin = false): void {
    this.enqueue({ kind: 'stream', id: streamId, data: data.slice(), fin, from: null });
  }

  /** Test hook: a raw datagram as if the peer sent it. */
  injectDatagram(data: Uint8Array): void {
    this.enqueue({ kind: 'datagram', data: data.slice(), from: null });
  }

  private enqueue(event: Event): void {
    this.inbox.push(event);
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.deliver());
  }

  private deliver(): void {
    this.scheduled = false;
    const events = this.inbox.splice(0);
    for (const event of events) {
      if (this.closed) return;
      switch (event.kind) {
        case 'stream':
          event.from?.delivered(event.id, event.data.length);
          this.onstreamdata?.(event.id, event.data, event.fin);
          break;
        case 'reset':
          this.onstreamreset?.(event.id, event.code);
          break;
        case 'datagram':
          if (event.from) event.from.queuedDatagrams--;
          this.ondatagram?.(event.data);
          break;
        case 'close':
          this.closed = true;
          this.onclose?.({ code: event.code, reason: event.reason, local: false });
          return;
      }
    }
  }

  private delivered(streamId: number, bytes: number): void {
    this.inFlight.set(streamId, (this.inFlight.get(streamId) ?? bytes) - bytes);
    if (this.blocked.delete(streamId) && !this.closed) {
      setImmediate(() => {
        if (!this.closed) this.onstreamwritable?.(streamId);
      });
    }
  }
}

/** A connected pair: [client, server]. */
export function fakeQuicPair(options: FakeQuicOptions = {}): [FakeQuic, FakeQuic] {
  const client = new FakeQuic(true, options);
  const server = new FakeQuic(false, options);
  client.peer = server;
  server.peer = client;
  return [client, server];
}
