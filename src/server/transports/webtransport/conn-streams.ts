// Stream bookkeeping of one QUIC connection: reading, writing, opening and shutting streams; blocked and stopped ones.
import { NetloomError } from '../../../codec/errors.js';
import { type Connection, quiche } from './config.js';
import type { QuicConnection } from './quic.js';
import { errorText, streamErrorCode } from './quiche-util.js';

/** Shared scratch for streamRecv; each delivered chunk is a copy. */
const scratch = new Uint8Array(64 * 1024);
const EMPTY = new Uint8Array(0);

/** What the streams report to, and ask of, their connection. */
export type StreamEvents = Pick<
  QuicConnection,
  'closed' | 'onstreamdata' | 'onstreamwritable' | 'onstreamreset'
>;

/**
 * The stream side of a QuicConn (see its notes for what the seam promises). The connection checks that it is
 * open before writing, opening or resetting; these methods run the stream operation itself.
 */
export class ConnStreams {
  /** Streams a write left bytes on: `onstreamwritable` fires once each can take more. */
  readonly blocked = new Set<number>();
  readonly #stopped = new Set<number>();
  readonly #readReset = new Set<number>();
  readonly #conn: Connection;
  readonly #events: StreamEvents;
  readonly #isClient: boolean;
  /** Runs a user callback, reporting what it throws. */
  readonly #call: (fn: () => void) => void;
  readonly #scheduleFlush: () => void;
  #nextBidi: number;
  #nextUni: number;

  constructor(
    conn: Connection,
    isClient: boolean,
    events: StreamEvents,
    call: (fn: () => void) => void,
    scheduleFlush: () => void,
  ) {
    this.#conn = conn;
    this.#isClient = isClient;
    this.#events = events;
    this.#call = call;
    this.#scheduleFlush = scheduleFlush;
    this.#nextBidi = isClient ? 0 : 1;
    this.#nextUni = isClient ? 2 : 3;
  }

  write(streamId: number, data: Uint8Array, fin: boolean): number {
    let n: number | null;
    try {
      n = this.#conn.streamSend(streamId, data, fin);
    } catch (err) {
      const code = streamErrorCode(err, 'StreamStopped');
      if (code !== null) {
        this.#reportStopped(streamId, code);
        return data.length; // the peer no longer reads this stream: the bytes are discarded
      }
      throw new NetloomError('quic_error', `cannot write stream ${streamId}: ${errorText(err)}`, {
        cause: err,
      });
    }
    if (n === null && data.length > 0) {
      // Done: no capacity, or quiche already forgot a stream the peer aborted
      try {
        this.#conn.streamCapacity(streamId);
      } catch (err) {
        const code = streamErrorCode(err, 'StreamStopped');
        if (code !== null) this.#reportStopped(streamId, code);
        if (code !== null || this.#readReset.has(streamId)) return data.length; // discarded, as above
        throw new NetloomError('quic_error', `cannot write stream ${streamId}: ${errorText(err)}`, {
          cause: err,
        });
      }
    }
    const taken = n ?? 0;
    if (taken < data.length) {
      this.blocked.add(streamId);
      try {
        this.#conn.streamWritable(streamId, 1);
      } catch {
        // the stream state changed; the writable pass will report it
      }
    }
    if (taken > 0 || fin) this.#scheduleFlush();
    return taken;
  }

  open(bidirectional: boolean): number {
    const left = bidirectional ? this.#conn.peerStreamsLeftBidi() : this.#conn.peerStreamsLeftUni();
    if (left <= 0) {
      throw new NetloomError(
        'quic_error',
        `the peer allows no more ${bidirectional ? 'bidi' : 'uni'} streams now`,
      );
    }
    const id = bidirectional ? this.#nextBidi : this.#nextUni;
    try {
      this.#conn.streamSend(id, EMPTY, false); // creates the stream in quiche
    } catch (err) {
      throw new NetloomError('quic_error', `cannot open stream: ${errorText(err)}`, { cause: err });
    }
    if (bidirectional) this.#nextBidi += 4;
    else this.#nextUni += 4;
    return id;
  }

  reset(streamId: number, code: number): void {
    const uni = (streamId & 2) !== 0;
    const local = ((streamId & 1) === 0) === this.#isClient;
    this.blocked.delete(streamId);
    try {
      if (!uni || local) this.#conn.streamShutdown(streamId, quiche.Shutdown.Write, code);
    } catch {
      // already finished or reset
    }
    try {
      if (!uni || !local) this.#conn.streamShutdown(streamId, quiche.Shutdown.Read, code);
    } catch {
      // already finished or reset
    }
    this.#scheduleFlush();
  }

  /** Delivers what stream `id` has to read (or its reset). */
  drain(id: number): void {
    for (;;) {
      let r: [number, boolean] | null;
      try {
        r = this.#conn.streamRecv(id, scratch);
      } catch (err) {
        const code = streamErrorCode(err, 'StreamReset');
        if (code !== null) {
          this.#readReset.add(id); // if quiche then forgets the stream, later writes are discarded
          this.#call(() => this.#events.onstreamreset?.(id, code));
        }
        return;
      }
      if (r === null) return;
      const [n, fin] = r;
      if (n > 0 || fin) {
        const chunk = scratch.slice(0, n);
        this.#call(() => this.#events.onstreamdata?.(id, chunk, fin));
      }
      if (fin || this.#events.closed) return;
    }
  }

  /** Reports blocked streams that can take bytes again, and stopped ones found among the writable. */
  writablePass(): void {
    const conn = this.#conn;
    for (const id of conn.writable()) {
      if (this.#stopped.has(id)) continue;
      try {
        conn.streamCapacity(id);
      } catch (err) {
        const code = streamErrorCode(err, 'StreamStopped');
        if (code !== null) this.#reportStopped(id, code);
        continue;
      }
      if (this.blocked.delete(id)) this.#call(() => this.#events.onstreamwritable?.(id));
      if (this.#events.closed) return;
    }
  }

  #reportStopped(id: number, code: number): void {
    if (this.#stopped.has(id)) return;
    this.#stopped.add(id);
    this.blocked.delete(id);
    try {
      this.#conn.streamShutdown(id, quiche.Shutdown.Write, code);
    } catch {
      // nothing left to shut down
    }
    this.#call(() => this.#events.onstreamreset?.(id, code));
  }
}
