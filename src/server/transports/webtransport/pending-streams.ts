// WebTransport streams that arrive before their session is established: held (bounded) until it is, or refused.
import type { WtStream } from './wt-session.js';

type Forward = (data: Uint8Array, fin: boolean) => void;

interface Entry {
  streamId: number;
  bidirectional: boolean;
  chunks: Array<{ data: Uint8Array; fin: boolean }>;
  /** undefined while held; the stream once bound; null once refused. */
  target: WtStream | null | undefined;
  refuse: () => void;
}

/**
 * QUIC delivers streams independently, so a WebTransport stream can overtake the CONNECT request (or
 * response) of its session. Such streams are held, with copies of their bytes, up to `maxStreams` streams
 * and `maxBytes` bytes in total; past either limit a stream is refused.
 */
export class PendingStreams {
  private readonly bySession = new Map<number, Entry[]>();
  private count = 0;
  private bytes = 0;

  constructor(
    private readonly maxStreams: number,
    private readonly maxBytes: number,
  ) {}

  /** Holds a stream for `sessionId`; returns the function its bytes go to, or null when over the limit. */
  hold(sessionId: number, streamId: number, bidirectional: boolean, refuse: () => void): Forward | null {
    if (this.count >= this.maxStreams) return null;
    const entry: Entry = { streamId, bidirectional, chunks: [], target: undefined, refuse };
    const list = this.bySession.get(sessionId) ?? [];
    list.push(entry);
    this.bySession.set(sessionId, list);
    this.count++;
    return (data, fin) => {
      if (entry.target) {
        entry.target.receive(data, fin);
        return;
      }
      if (entry.target === null) return;
      this.bytes += data.length;
      if (this.bytes > this.maxBytes) {
        this.drop(entry);
        entry.target = null;
        entry.refuse();
        return;
      }
      entry.chunks.push({ data: data.slice(), fin });
    };
  }

  /**
   * The session was established (`accept` makes each stream, or returns null to refuse it) or refused
   * (`accept` null): hands over or refuses its held streams, replaying their bytes in order.
   */
  release(
    sessionId: number,
    accept: ((streamId: number, bidirectional: boolean) => WtStream | null) | null,
  ): void {
    const list = this.bySession.get(sessionId);
    if (!list) return;
    this.bySession.delete(sessionId);
    for (const entry of list) {
      if (entry.target !== undefined) continue;
      const chunks = entry.chunks;
      this.drop(entry);
      const stream = accept ? accept(entry.streamId, entry.bidirectional) : null;
      entry.target = stream;
      if (!stream) {
        entry.refuse();
        continue;
      }
      for (const chunk of chunks) stream.receive(chunk.data, chunk.fin);
    }
  }

  /** Forgets everything (the connection is gone). */
  clear(): void {
    this.bySession.clear();
    this.count = 0;
    this.bytes = 0;
  }

  private drop(entry: Entry): void {
    this.count--;
    for (const chunk of entry.chunks) this.bytes -= chunk.data.length;
    entry.chunks = [];
  }
}
