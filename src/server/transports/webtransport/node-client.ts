// NodeWebTransport: the part of the browser's WebTransport API that netloom's client uses, over our HTTP/3 layer.
import { NetloomError } from '../../../codec/errors.js';
import { H3Connection, type H3ConnectionOptions } from './h3-connection.js';
import type { QuicConnection } from './quic.js';
import type { WtSession, WtStream } from './wt-session.js';

export interface WebTransportHash {
  algorithm: string;
  value: Uint8Array;
}

export interface NodeWebTransportOptions {
  /**
   * Opens the QUIC connection (for example with the QUIC client's `connectQuic`), which checks the server
   * certificate against `serverCertificateHashes` (passed on as given).
   */
  connect: (
    host: string,
    port: number,
    options: { serverCertificateHashes?: WebTransportHash[] },
  ) => Promise<QuicConnection>;
  /** Passed to `connect`, for a QUIC client that checks the server certificate against them. */
  serverCertificateHashes?: WebTransportHash[];
  /** The `origin` header to send (browsers send the page's origin). Default: none. */
  origin?: string;
  /** Limits of the HTTP/3 layer. */
  h3?: H3ConnectionOptions;
  /** Incoming datagrams queued for the reader at most; more are dropped, as browsers do. Default 128. */
  datagramQueue?: number;
}

export interface WebTransportCloseInfo {
  closeCode: number;
  reason: string;
}

export interface NodeBidirectionalStream {
  readable: ReadableStream<Uint8Array>;
  writable: WritableStream<Uint8Array>;
}

/** A send queue above this makes `write()` wait for the stream to drain (backpressure for the writer). */
const WRITE_HIGH_WATER = 64 * 1024;

/**
 * A WebTransport session from Node, shaped like the browser's `WebTransport`: `ready`, `closed`, `datagrams`
 * (WHATWG streams), `createBidirectionalStream`, `createUnidirectionalStream`, `incomingBidirectionalStreams`,
 * `incomingUnidirectionalStreams`, `close`. One QUIC connection per session; it closes with the session.
 * `closed` resolves after a close capsule or FIN and rejects when the connection is lost.
 */
export class NodeWebTransport {
  readonly ready: Promise<void>;
  readonly closed: Promise<WebTransportCloseInfo>;
  readonly datagrams: {
    readable: ReadableStream<Uint8Array>;
    writable: WritableStream<Uint8Array>;
    readonly maxDatagramSize: number;
  };
  readonly incomingBidirectionalStreams: ReadableStream<NodeBidirectionalStream>;
  readonly incomingUnidirectionalStreams: ReadableStream<ReadableStream<Uint8Array>>;
  private session: WtSession | null = null;
  private quic: QuicConnection | null = null;
  private h3: H3Connection | null = null;
  private closeRequested: WebTransportCloseInfo | null = null;
  private datagramController: ReadableStreamDefaultController<Uint8Array> | null = null;
  private bidiController: ReadableStreamDefaultController<NodeBidirectionalStream> | null = null;
  private uniController: ReadableStreamDefaultController<ReadableStream<Uint8Array>> | null = null;
  private resolveClosed!: (info: WebTransportCloseInfo) => void;
  private rejectClosed!: (err: NetloomError) => void;

  constructor(url: string, options: NodeWebTransportOptions) {
    this.closed = new Promise((resolve, reject) => {
      this.resolveClosed = resolve;
      this.rejectClosed = reject;
    });
    this.closed.catch(() => {});
    const self = this;
    this.datagrams = {
      readable: new ReadableStream<Uint8Array>(
        {
          start: (controller) => {
            this.datagramController = controller;
          },
        },
        { highWaterMark: options.datagramQueue ?? 128 },
      ),
      writable: new WritableStream<Uint8Array>({
        write: (chunk) => {
          this.session?.sendDatagram(chunk); // dropped when too large or congested, as in browsers
        },
      }),
      get maxDatagramSize(): number {
        return self.session?.maxDatagramSize ?? 0;
      },
    };
    this.incomingBidirectionalStreams = new ReadableStream({
      start: (controller) => {
        this.bidiController = controller;
      },
    });
    this.incomingUnidirectionalStreams = new ReadableStream({
      start: (controller) => {
        this.uniController = controller;
      },
    });
    this.ready = this.open(url, options);
    this.ready.catch((err: unknown) => this.finish(null, toError(err)));
  }

  private async open(url: string, options: NodeWebTransportOptions): Promise<void> {
    const target = new URL(url);
    if (target.protocol !== 'https:')
      throw new NetloomError('wt_session_refused', `not an https URL: ${url}`);
    const host = target.hostname.replace(/^\[|\]$/g, '');
    const port = Number(target.port || 443);
    const quic = await options.connect(host, port, {
      serverCertificateHashes: options.serverCertificateHashes,
    });
    this.quic = quic;
    const h3 = new H3Connection(quic, options.h3);
    this.h3 = h3;
    h3.onclose = (info) => {
      if (info.code !== 'normal' || !this.session?.closed)
        this.finish(null, new NetloomError('link_closed', info.reason || 'connection closed'));
    };
    if (this.closeRequested) {
      h3.close('closed before ready');
      throw new NetloomError('link_closed', 'closed before ready');
    }
    const session = await h3.connect(target.host, `${target.pathname}${target.search}`, options.origin);
    this.session = session;
    session.ondatagram = (data) => {
      const c = this.datagramController;
      if (c && (c.desiredSize ?? 1) > 0) c.enqueue(data.slice());
    };
    session.onstream = (stream) => {
      if (stream.bidirectional) this.bidiController?.enqueue(wrapBidi(stream));
      else this.uniController?.enqueue(readableOf(stream));
    };
    session.onclose = (info) => {
      if (info.abrupt) this.finish(null, new NetloomError('link_closed', info.reason || 'connection lost'));
      else this.finish({ closeCode: info.code, reason: info.reason }, null);
    };
    if (this.closeRequested) this.close(this.closeRequested);
  }

  async createBidirectionalStream(): Promise<NodeBidirectionalStream> {
    await this.ready;
    return wrapBidi(this.liveSession().openStream(true));
  }

  async createUnidirectionalStream(): Promise<WritableStream<Uint8Array>> {
    await this.ready;
    return writableOf(this.liveSession().openStream(false));
  }

  /** Closes the session with the close capsule, then the QUIC connection once the server has answered. */
  close(info: { closeCode?: number; reason?: string } = {}): void {
    const closeInfo = { closeCode: info.closeCode ?? 0, reason: info.reason ?? '' };
    if (!this.session) {
      this.closeRequested = closeInfo;
      return;
    }
    if (this.session.closed) return;
    this.session.close(closeInfo.closeCode, closeInfo.reason);
  }

  private liveSession(): WtSession {
    if (!this.session || this.session.closed)
      throw new NetloomError('link_closed', 'WebTransport session closed');
    return this.session;
  }

  private finish(info: WebTransportCloseInfo | null, err: NetloomError | null): void {
    for (const c of [this.datagramController, this.bidiController, this.uniController]) {
      try {
        if (err) c?.error(err);
        else c?.close();
      } catch {
        // already closed
      }
    }
    this.datagramController = this.bidiController = this.uniController = null;
    if (info) this.resolveClosed(info);
    else if (err) this.rejectClosed(err);
    // The session is over: the connection carries nothing else. Let the close capsule's FIN go out first.
    const quic = this.quic;
    if (quic && !quic.closed) setTimeout(() => this.h3?.close('session closed'), 50);
  }
}

function toError(err: unknown): NetloomError {
  return err instanceof NetloomError
    ? err
    : new NetloomError('link_error', err instanceof Error ? err.message : String(err));
}

function wrapBidi(stream: WtStream): NodeBidirectionalStream {
  return { readable: readableOf(stream), writable: writableOf(stream) };
}

/** The receiving side of a stream as a ReadableStream (chunks are copies). */
function readableOf(stream: WtStream): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    start(controller) {
      stream.ondata = (data, fin) => {
        try {
          if (data.length > 0) controller.enqueue(data.slice());
          if (fin) controller.close();
        } catch {
          // cancelled by the reader
        }
      };
      stream.onreset = (code) => {
        try {
          controller.error(new NetloomError('link_closed', `stream reset (code ${code})`));
        } catch {
          // already closed
        }
      };
    },
  });
}

/** The sending side of a stream as a WritableStream; `write` waits while the send queue is above 64 KiB. */
function writableOf(stream: WtStream): WritableStream<Uint8Array> {
  let drained: (() => void) | null = null;
  stream.onwritable = () => {
    const resolve = drained;
    drained = null;
    resolve?.();
  };
  return new WritableStream<Uint8Array>({
    async write(chunk) {
      if (!stream.write(chunk)) throw new NetloomError('link_closed', 'stream cannot send');
      while (stream.bufferedBytes > WRITE_HIGH_WATER) {
        if (!stream.writable) throw new NetloomError('link_closed', 'stream closed');
        await new Promise<void>((resolve) => {
          drained = resolve;
        });
      }
    },
    close() {
      stream.end();
    },
    abort() {
      stream.reset(0);
    },
  });
}

/**
 * A `WebTransport`-shaped constructor bound to `options` (notably `connect`), for code that takes a
 * WebTransport constructor, such as netloom's client link: `connectWebTransport(url, { WebTransport:
 * nodeWebTransportClass({ connect }) })`.
 */
export function nodeWebTransportClass(
  options: Omit<NodeWebTransportOptions, 'serverCertificateHashes'>,
): new (
  url: string,
  init?: { serverCertificateHashes?: WebTransportHash[] },
) => NodeWebTransport {
  return class extends NodeWebTransport {
    constructor(url: string, init?: { serverCertificateHashes?: WebTransportHash[] }) {
      super(url, { ...options, serverCertificateHashes: init?.serverCertificateHashes });
    }
  };
}
