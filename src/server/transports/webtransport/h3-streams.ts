// The streams of one HTTP/3 connection: each stream's route and writer; WebTransport streams bound, held or refused.
import { NetloomError } from '../../../codec/errors.js';
import { WEBTRANSPORT_STREAM_SIGNAL } from './h3-frames.js';
import type { H3Stats } from './h3-options.js';
import { type Route, STREAM_WEBTRANSPORT_UNI } from './h3-routes.js';
import { PendingStreams } from './pending-streams.js';
import type { QuicConnection } from './quic.js';
import { StreamWriter } from './stream-writer.js';
import { encodeVarints } from './varint.js';
import { H3_REQUEST_REJECTED, type WtSession, WtStream } from './wt-session.js';

type Forward = (data: Uint8Array, fin: boolean) => void;

/**
 * Per-stream state an H3Connection keeps: where each stream's events go (`routes`), the writers of the
 * streams it sends on (`writers`, so `onstreamwritable` reaches them), and WebTransport streams that arrived
 * before their session (held in `PendingStreams`).
 */
export class H3Streams {
  /** Routes of the streams in use. */
  readonly routes = new Map<number, Route>();
  readonly writers = new Map<number, StreamWriter>();
  private readonly pending: PendingStreams;

  constructor(
    private readonly quic: QuicConnection,
    private readonly stats: H3Stats,
    /** Ends the connection for a protocol error. */
    private readonly fail: (err: NetloomError) => void,
    maxPendingStreams: number,
    maxPendingBytes: number,
  ) {
    this.pending = new PendingStreams(maxPendingStreams, maxPendingBytes);
  }

  /** A writer for stream `id`, registered so that the stream's writable events reach it. */
  writer(id: number): StreamWriter {
    const writer = new StreamWriter(this.quic, id);
    this.writers.set(id, writer);
    return writer;
  }

  /** Opens one of our critical unidirectional streams (control, QPACK) and writes its type. */
  openUni(type: number): StreamWriter {
    const id = this.quic.openStream(false);
    const writer = this.writer(id);
    this.routes.set(id, {
      data: () => {},
      reset: () => this.fail(new NetloomError('h3_stream_error', `critical stream ${type} stopped`)),
    });
    writer.write(encodeVarints(type));
    return writer;
  }

  /** Opens a WebTransport stream of `session` and writes its header. */
  openSessionStream(session: WtSession, bidirectional: boolean): WtStream {
    const id = this.quic.openStream(bidirectional);
    const writer = this.writer(id);
    writer.write(
      encodeVarints(bidirectional ? WEBTRANSPORT_STREAM_SIGNAL : STREAM_WEBTRANSPORT_UNI, session.id),
    );
    const stream = new WtStream(session, id, bidirectional, false, writer);
    this.routes.set(id, {
      data: (bytes, fin) => stream.receive(bytes, fin),
      reset: (code) => stream.receiveReset(code),
    });
    return stream;
  }

  /** Drops a stream's route and writer; a stream the peer may still send on keeps a route that discards. */
  forget(id: number, readableEnded: boolean): void {
    this.writers.delete(id);
    if (readableEnded) {
      this.routes.delete(id);
      return;
    }
    this.routes.set(id, {
      data: (_bytes, fin) => {
        if (fin) this.routes.delete(id);
      },
      reset: () => this.routes.delete(id),
    });
  }

  /** Routes an incoming WebTransport stream to `session`; returns where its bytes go (refused if it cannot). */
  accept(session: WtSession, streamId: number, bidirectional: boolean): Forward {
    const stream = this.bind(session, streamId, bidirectional);
    return stream ? (bytes, fin) => stream.receive(bytes, fin) : this.refuse(streamId, bidirectional);
  }

  /** Holds an incoming WebTransport stream until session `sessionId` exists (refused past the limits). */
  hold(sessionId: number, streamId: number, bidirectional: boolean): Forward {
    const held = this.pending.hold(sessionId, streamId, bidirectional, () =>
      this.refuse(streamId, bidirectional),
    );
    return held ?? this.refuse(streamId, bidirectional);
  }

  /** Session `sessionId` was established (`session`) or refused (null): hands over or refuses its held streams. */
  release(sessionId: number, session: WtSession | null): void {
    this.pending.release(
      sessionId,
      session ? (streamId, bidirectional) => this.bind(session, streamId, bidirectional) : null,
    );
  }

  /** Refuses an incoming WebTransport stream; returns the function that discards the rest of it. */
  refuse(streamId: number, bidirectional: boolean): Forward {
    this.stats.streamsRefused++;
    if (bidirectional) {
      try {
        this.quic.resetStream(streamId, H3_REQUEST_REJECTED);
      } catch {
        // gone
      }
    }
    return (_bytes, fin) => {
      if (fin) this.routes.delete(streamId);
    };
  }

  /** The connection is gone: abandons every writer and forgets all streams. */
  clear(): void {
    for (const writer of this.writers.values()) writer.abandon();
    this.routes.clear();
    this.writers.clear();
    this.pending.clear();
  }

  /** Makes `session`'s stream for an incoming QUIC stream and routes the stream's events to it. */
  private bind(session: WtSession, streamId: number, bidirectional: boolean): WtStream | null {
    let writer: StreamWriter | null = null;
    if (bidirectional) writer = this.writer(streamId);
    const stream = session.acceptStream(streamId, bidirectional, writer);
    if (!stream) {
      this.writers.delete(streamId);
      return null;
    }
    this.routes.set(streamId, {
      data: (bytes, fin) => stream.receive(bytes, fin),
      reset: (code) => stream.receiveReset(code),
    });
    return stream;
  }
}
