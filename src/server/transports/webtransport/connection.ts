// One QUIC connection over a quiche Connection, exposed as the QuicConnection seam (used by server and client).
import { NetloomError } from '../../../codec/errors.js';
import type { Connection, Host } from './config.js';
import { ConnStreams } from './conn-streams.js';
import { ConnTimers } from './conn-timers.js';
import { takeDatagram, takeDatagrams } from './datagram-slab.js';
import type { QuicConnection } from './quic.js';
import { type CloseInfo, closeInfoOf, encodeReason, errorText } from './quiche-util.js';
import type { PacketOutput } from './udp.js';

/** Hooks the owner (endpoint or client) passes in. */
export interface QuicConnOwner {
  readonly output: PacketOutput;
  /** quiche has fully closed the connection (after draining): forget it. */
  removed(conn: QuicConn): void;
  /** A user callback threw. */
  callbackError(err: unknown): void;
}

/**
 * The QuicConnection implementation. Created by the endpoint (server) or `connectQuic` (client).
 * Details the seam leaves open:
 * - `writeStream` on a closed connection throws `quic_closed`; on a stream the peer stopped (or reset and quiche
 *   then dropped) it fires `onstreamreset` once and returns `data.length`: the bytes are discarded.
 *   A STOP_SENDING for a stream we are not blocked on is noticed at the next write to it.
 * - With `fin` and a partial write, quiche ignores `fin`: write the rest with `fin` again.
 * - `openStream` throws `quic_error` when the peer's stream limit is reached.
 * - `resetStream` sends RESET_STREAM for our sending side and STOP_SENDING for the peer's, as the stream has them.
 * - `onclose` fires once: `local` false with the peer's code/reason; idle timeout is `{ code: 0, reason:
 *   'idle timeout', local: true }`. Stream and datagram bytes handed to callbacks are the callee's to keep
 *   (copies, or views of memory never written again).
 */
export class QuicConn implements QuicConnection {
  onstreamdata: ((streamId: number, data: Uint8Array, fin: boolean) => void) | null = null;
  onstreamwritable: ((streamId: number) => void) | null = null;
  onstreamreset: ((streamId: number, code: number) => void) | null = null;
  ondatagram: ((data: Uint8Array) => void) | null = null;
  onclose: ((info: CloseInfo) => void) | null = null;
  /** Internal: fires once when the handshake completes. */
  onestablished: (() => void) | null = null;
  readonly isClient: boolean;
  readonly remote: { host: string; port: number };
  /** When this connection was created (ms since epoch). */
  readonly createdAt = Date.now();
  /** Internal: map keys the endpoint registered for this connection. */
  readonly keys: string[] = [];
  /** Internal: PacketOutput's bookkeeping. */
  flushQueued = false;

  readonly #conn: Connection;
  readonly #owner: QuicConnOwner;
  readonly #recvInfo: { from: Host; to: Host };
  #established = false;
  /** quiche refused a received packet: check for a close after the next flush. */
  #closeCheckDue = false;
  #active = false;
  #closeInfo: CloseInfo | null = null;
  #removed = false;
  #inReceive = false;
  /** Something other than an acknowledgement became due while a packet was being received. */
  #wroteInReceive = false;
  /** Bytes of the largest UDP payload received: a bound on any datagram quiche hands out. */
  #largestPacketIn = 1500;
  /** quiche's datagram size limit (-1: ask); settled once the handshake is done, asked again until then. */
  #maxDatagram = -1;
  readonly #timers = new ConnTimers(
    () => this.#conn.timeout(),
    () => this.#onDeadline(),
    () => {
      if (!this.#removed) this.#owner.output.schedule(this);
    },
  );
  readonly #streams: ConnStreams;
  /** The streams' blocked set, held here too: `#processEvents` reads it for every packet. */
  readonly #blocked: Set<number>;

  constructor(conn: Connection, isClient: boolean, local: Host, remote: Host, owner: QuicConnOwner) {
    this.#conn = conn;
    this.isClient = isClient;
    this.remote = { host: remote.host, port: remote.port };
    this.#owner = owner;
    this.#recvInfo = { from: { host: remote.host, port: remote.port }, to: local };
    this.#streams = new ConnStreams(
      conn,
      isClient,
      this,
      (fn) => this.#call(fn),
      () => this.#scheduleFlush(),
    );
    this.#blocked = this.#streams.blocked;
  }

  /** True once the TLS handshake has completed. */
  get established(): boolean {
    return this.#established;
  }

  get closed(): boolean {
    return this.#closeInfo !== null;
  }

  get maxDatagramSize(): number {
    if (this.#closeInfo !== null) return 0;
    if (this.#maxDatagram < 0) this.#maxDatagram = this.#conn.dgramMaxWritableLen() ?? 0;
    return this.#maxDatagram;
  }

  /** quiche's counters for this connection (packets, bytes, losses, peer transport parameters). */
  stats(): ReturnType<Connection['stats']> {
    return this.#conn.stats();
  }

  /** The certificate chain the peer presented (DER, leaf first), or null. */
  peerCertificates(): Uint8Array[] | null {
    return this.#conn.peerCertChain();
  }

  /** Internal: forget a connection that never accepted a packet, without sending anything. */
  discard(): void {
    if (this.#removed) return;
    this.#removed = true;
    this.#closeInfo ??= { code: 0, reason: 'discarded', local: true };
    this.#timers.clear();
    this.#owner.removed(this);
  }

  /** Internal: start delivering stream and datagram events (after the owner handed the connection out). */
  activate(): void {
    if (this.#active) return;
    this.#active = true;
    this.#processEvents();
    this.#owner.output.schedule(this);
  }

  /** Internal: feeds one UDP payload to quiche and handles what it produced. */
  receive(packet: Buffer): void {
    if (packet.length > this.#largestPacketIn) this.#largestPacketIn = packet.length;
    this.#inReceive = true;
    try {
      try {
        this.#conn.recv(packet, this.#recvInfo);
      } catch {
        // quiche refused the packet (undecryptable, duplicate, malformed): it has already dropped it. It
        // may also have closed the connection, which shows once its CONNECTION_CLOSE is sent: look after
        // the next flush.
        this.#closeCheckDue = true;
      }
      if (!this.#established && this.#conn.isEstablished()) {
        this.#established = true;
        this.#call(() => this.onestablished?.());
      }
      if (this.#active) this.#processEvents();
      this.#checkClosed();
    } finally {
      this.#inReceive = false;
    }
    if (!this.#established || this.#wroteInReceive || this.#closeInfo !== null) {
      this.#wroteInReceive = false;
      this.#owner.output.schedule(this);
    } else {
      // Nothing to send but an acknowledgement: hold it briefly so that it rides on the next packet
      // this side sends anyway (a game sends state every tick), instead of costing a packet of its own.
      this.#timers.holdAck();
    }
  }

  /** Internal: writes out everything quiche wants to send, then re-arms the timer. */
  flush(): void {
    this.#timers.ackSent();
    if (!this.#established) this.#maxDatagram = -1;
    if (this.#removed) return;
    try {
      this.#owner.output.sendFrom(this.#conn, this.remote.port, this.remote.host);
    } catch (err) {
      this.#owner.callbackError(new NetloomError('quic_error', `quiche send failed: ${errorText(err)}`));
    }
    // Sending closes nothing by itself: the checks (two native calls) are needed only while the handshake
    // runs, after a close, or after quiche refused a packet. A peer's close or stateless reset shows in
    // `receive`, an idle timeout or the end of draining in `#onDeadline`.
    if (this.#closeCheckDue || this.#closeInfo !== null || !this.#established) {
      this.#closeCheckDue = false;
      this.#checkClosed();
    }
    if (!this.#removed) this.#timers.arm(this.#conn.timeout());
  }

  writeStream(streamId: number, data: Uint8Array, fin = false): number {
    if (this.#closeInfo !== null) throw new NetloomError('quic_closed', 'the QUIC connection is closed');
    return this.#streams.write(streamId, data, fin);
  }

  openStream(bidirectional: boolean): number {
    if (this.#closeInfo !== null) throw new NetloomError('quic_closed', 'the QUIC connection is closed');
    return this.#streams.open(bidirectional);
  }

  resetStream(streamId: number, code: number): void {
    if (this.#closeInfo !== null) return;
    this.#streams.reset(streamId, code);
  }

  sendDatagram(data: Uint8Array): boolean {
    if (this.#closeInfo !== null) return false;
    if (data.length > this.maxDatagramSize) return false;
    try {
      // null: the send queue is full
      if (this.#conn.dgramSend(data) === null) return false;
    } catch {
      return false;
    }
    this.#scheduleFlush();
    return true;
  }

  close(code: number, reason: string): void {
    if (this.#closeInfo !== null) return;
    // Send what is pending first (a client's handshake Finished, queued stream data) so the peer can read the close.
    if (!this.#removed) {
      try {
        this.#owner.output.sendFrom(this.#conn, this.remote.port, this.remote.host);
      } catch {
        // nothing to send
      }
    }
    try {
      this.#conn.close(true, code, encodeReason(reason));
    } catch {
      // already closing
    }
    this.#fireClose({ code, reason, local: true });
    this.#scheduleFlush();
  }

  /** Internal: close without telling the peer anything more than quiche does (endpoint shutdown, timeouts). */
  abort(reason: string): void {
    this.close(0, reason);
  }

  #scheduleFlush(): void {
    if (this.#inReceive) this.#wroteInReceive = true;
    else this.#owner.output.schedule(this);
  }

  #call(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.#owner.callbackError(err);
    }
  }

  #processEvents(): void {
    const conn = this.#conn;
    if (this.#closeInfo !== null) return;
    // Datagrams first. quiche's isReadable() is true while datagrams or stream data wait, so after taking
    // one datagram a false isReadable() says there is nothing more (the common case: two native calls, not
    // a third dgramRecv that returns null). readable() allocates a native iterator (three native functions,
    // costly to make and to collect), so it is asked only once no datagram is left and a stream has data.
    const largest = this.#largestPacketIn;
    const first = takeDatagram(conn, largest);
    let rest: Uint8Array | Uint8Array[] | null = null;
    if (conn.isReadable()) {
      if (first !== null) rest = takeDatagrams(conn, largest);
      if (first === null || conn.isReadable()) {
        for (const id of conn.readable()) {
          this.#streams.drain(id);
          if (this.#closeInfo !== null) return;
        }
      }
    }
    // Delivered after the stream data that came with them, as quiche received them.
    if (first !== null) this.#deliverDatagram(first);
    if (rest instanceof Uint8Array) this.#deliverDatagram(rest);
    else if (rest !== null) for (const d of rest) this.#deliverDatagram(d);
    // A STOP_SENDING on a stream we are not blocked on is reported on the next write to it.
    if (this.#closeInfo !== null || this.#blocked.size === 0) return;
    this.#streams.writablePass();
  }

  #deliverDatagram(d: Uint8Array): void {
    if (this.#closeInfo !== null) return;
    try {
      this.ondatagram?.(d);
    } catch (err) {
      this.#owner.callbackError(err);
    }
  }

  #fireClose(info: CloseInfo): void {
    if (this.#closeInfo !== null) return;
    this.#closeInfo = info;
    this.#call(() => this.onclose?.(info));
  }

  #checkClosed(): void {
    const conn = this.#conn;
    let closed = conn.isClosed();
    if (this.#closeInfo === null && (closed || conn.isDraining())) {
      this.#fireClose(closeInfoOf(conn));
      closed = conn.isClosed();
    }
    if (closed && !this.#removed) {
      this.#removed = true;
      this.#timers.clear();
      this.#owner.removed(this);
    }
  }

  #onDeadline(): void {
    if (this.#removed) return;
    try {
      this.#conn.onTimeout();
    } catch (err) {
      this.#owner.callbackError(err);
    }
    this.#checkClosed();
    this.flush();
  }
}
