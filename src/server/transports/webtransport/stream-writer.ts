// Writes to one QUIC stream through flow control: what the seam does not take now is queued and retried when writable.
import type { QuicConnection } from './quic.js';

/**
 * A send queue for one stream. What flow control does not take at once is copied into the queue, so
 * callers may reuse their buffers. `ondrain` runs when a non-empty queue has been fully handed to QUIC.
 */
export class StreamWriter {
  private readonly queue: Uint8Array[] = [];
  private queued = 0;
  private finQueued = false;
  /** True once the FIN has been handed to QUIC (or the stream was reset): no more writes. */
  finished = false;
  ondrain: (() => void) | null = null;

  constructor(
    private readonly quic: QuicConnection,
    readonly streamId: number,
  ) {}

  /** Bytes waiting for flow control. */
  get bufferedBytes(): number {
    return this.queued;
  }

  /** Queues `data` (and a FIN after it when `fin`); writes what flow control allows now. */
  write(data: Uint8Array, fin = false): void {
    if (this.finished || this.finQueued) return;
    if (this.queue.length === 0) {
      const taken = this.send(data, fin);
      if (taken < 0) return;
      if (taken === data.length) {
        if (fin) this.finished = true;
        return;
      }
      this.queue.push(data.slice(taken));
      this.queued += data.length - taken;
      this.finQueued = fin;
      return;
    }
    if (data.length > 0) {
      this.queue.push(data.slice());
      this.queued += data.length;
    }
    if (fin) this.finQueued = true;
  }

  /** Sends the FIN after whatever is queued. */
  end(): void {
    this.write(new Uint8Array(0), true);
  }

  /** The stream became writable again: hand over as much of the queue as flow control allows. */
  flush(): void {
    if (this.finished) return;
    const hadQueue = this.queue.length > 0 || this.finQueued;
    while (this.queue.length > 0) {
      const head = this.queue[0];
      const last = this.queue.length === 1;
      const taken = this.send(head, last && this.finQueued);
      if (taken < 0) return;
      this.queued -= taken;
      if (taken < head.length) {
        this.queue[0] = head.subarray(taken);
        return;
      }
      this.queue.shift();
      if (last && this.finQueued) this.finished = true;
    }
    if (this.finQueued && !this.finished && this.send(new Uint8Array(0), true) >= 0) this.finished = true;
    if (hadQueue) this.ondrain?.();
  }

  /** Drops the queue and refuses further writes (the stream was reset, or the connection is gone). */
  abandon(): void {
    this.queue.length = 0;
    this.queued = 0;
    this.finished = true;
  }

  /** Returns the bytes taken (a zero-length FIN counts as taken), or -1 when the stream refused the write. */
  private send(data: Uint8Array, fin: boolean): number {
    try {
      const taken = this.quic.writeStream(this.streamId, data, fin);
      return data.length === 0 ? 0 : taken;
    } catch {
      this.abandon();
      return -1;
    }
  }
}
