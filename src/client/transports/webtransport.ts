// The client's WebTransport link over the browser's WebTransport API: datagrams for unreliable, one bidirectional stream for reliable.
import { type ErrorCode, NetloomError } from '../../codec/errors.js';
import { encodeLengthPrefixed, LengthPrefixedDecoder } from '../../codec/stream-framing.js';
import {
  type Channel,
  type Link,
  type LinkCloseInfo,
  LinkCounters,
  type LinkStats,
} from '../../link/link.js';

/** The part of a WHATWG stream pair this link uses. */
export interface WebTransportStreamPair {
  readable: ReadableStream<Uint8Array>;
  writable: WritableStream<Uint8Array>;
}

/** The subset of the browser's `WebTransport` this link uses (Node's NodeWebTransport has it too). */
export interface WebTransportLike {
  readonly ready: Promise<unknown>;
  readonly closed: Promise<{ closeCode?: number; reason?: string } | undefined>;
  readonly datagrams: WebTransportStreamPair & { readonly maxDatagramSize?: number };
  createBidirectionalStream(): Promise<WebTransportStreamPair>;
  close(info?: { closeCode?: number; reason?: string }): void;
}

export type WebTransportConstructorLike = new (
  url: string,
  options?: { serverCertificateHashes?: Array<{ algorithm: 'sha-256'; value: Uint8Array }> },
) => WebTransportLike;

export interface ConnectWebTransportOptions {
  /** Default `globalThis.WebTransport`. */
  WebTransport?: WebTransportConstructorLike;
  /** SHA-256 hashes (hex) of the server's certificates, for servers with short-lived self-signed ones. */
  certificateHashes?: string[];
  /** Time to open the session and the reliable stream (default 10,000 ms). */
  timeoutMs?: number;
  /** Unreliable frames are dropped while more than this is queued on the datagram writer (default 64 KiB). */
  unreliableDropBytes?: number;
  /** Largest reliable frame accepted (default 65,536). */
  maxFrameBytes?: number;
}

/** True when this runtime can open WebTransport sessions. */
export function webTransportAvailable(ctor: unknown = globalWebTransport()): boolean {
  return typeof ctor === 'function';
}

function globalWebTransport(): unknown {
  return (globalThis as { WebTransport?: unknown }).WebTransport;
}

function hexBytes(hex: string): Uint8Array {
  if (!/^([0-9a-f]{2})+$/i.test(hex))
    throw new NetloomError('request_invalid', 'certificate hash is not hex');
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}

/** Opens a WebTransport session to `url` and its reliable stream; resolves with the Link. */
export async function connectWebTransport(
  url: string,
  options: ConnectWebTransportOptions = {},
): Promise<Link> {
  const Ctor = options.WebTransport ?? (globalWebTransport() as WebTransportConstructorLike | undefined);
  if (!Ctor) throw new NetloomError('transport_unavailable', 'this runtime has no WebTransport');
  const hashes = options.certificateHashes?.map((h) => ({
    algorithm: 'sha-256' as const,
    value: hexBytes(h),
  }));
  const transport = new Ctor(url, hashes?.length ? { serverCertificateHashes: hashes } : undefined);
  const timeoutMs = options.timeoutMs ?? 10_000;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new NetloomError('upgrade_timeout', `no WebTransport session within ${timeoutMs} ms`)),
      timeoutMs,
    );
  });
  try {
    await Promise.race([transport.ready, timeout]);
    const stream = await Promise.race([transport.createBidirectionalStream(), timeout]);
    return new WebTransportClientLink(transport, stream, options);
  } catch (err) {
    transport.close({ closeCode: 0, reason: 'setup failed' });
    if (err instanceof NetloomError) throw err;
    throw new NetloomError('link_error', `WebTransport failed: ${err instanceof Error ? err.message : err}`);
  } finally {
    clearTimeout(timer);
  }
}

/** A Link over one WebTransport session. Frames that arrive before `onframe` is set are held. */
class WebTransportClientLink implements Link {
  readonly transport = 'webtransport' as const;
  private closed = false;
  private frameHandler: ((frame: Uint8Array, channel: Channel) => void) | null = null;
  onclose: ((info: LinkCloseInfo) => void) | null = null;
  private readonly held: Array<{ frame: Uint8Array; channel: Channel }> = [];
  private readonly counters = new LinkCounters();
  private readonly streamWriter: WritableStreamDefaultWriter<Uint8Array>;
  private readonly datagramWriter: WritableStreamDefaultWriter<Uint8Array>;
  private readonly maxDatagram: number;
  private readonly unreliableDropBytes: number;
  private readonly maxFrameBytes: number;
  /** Reliable bytes handed to the stream writer and not yet written. */
  private pendingBytes = 0;
  private pendingDatagramBytes = 0;

  constructor(
    private readonly session: WebTransportLike,
    stream: WebTransportStreamPair,
    options: ConnectWebTransportOptions,
  ) {
    this.maxDatagram = session.datagrams.maxDatagramSize ?? 1_200;
    this.unreliableDropBytes = options.unreliableDropBytes ?? 65_536;
    this.maxFrameBytes = options.maxFrameBytes ?? 65_536;
    this.streamWriter = stream.writable.getWriter();
    this.datagramWriter = session.datagrams.writable.getWriter();
    void this.readStream(stream.readable);
    void this.readDatagrams(session.datagrams.readable);
    session.closed.then(
      (info) => this.finish(info?.closeCode ? 'link_closed' : 'normal', info?.reason ?? '', false),
      (err: unknown) => this.finish('link_error', err instanceof Error ? err.message : String(err), false),
    );
  }

  get onframe(): ((frame: Uint8Array, channel: Channel) => void) | null {
    return this.frameHandler;
  }

  set onframe(handler: ((frame: Uint8Array, channel: Channel) => void) | null) {
    this.frameHandler = handler;
    if (handler) for (const { frame, channel } of this.held.splice(0)) this.deliver(frame, channel);
  }

  get isOpen(): boolean {
    return !this.closed;
  }

  get bufferedBytes(): number {
    return this.pendingBytes + this.pendingDatagramBytes;
  }

  send(channel: Channel, frame: Uint8Array): boolean {
    if (this.closed || frame.byteLength === 0) {
      if (channel === 'unreliable') this.counters.droppedOut++;
      return false;
    }
    if (channel === 'unreliable') {
      // Never truncated: a datagram larger than the path allows is refused.
      if (frame.byteLength > this.maxDatagram || this.pendingDatagramBytes > this.unreliableDropBytes) {
        this.counters.droppedOut++;
        return false;
      }
      const copy = frame.slice();
      this.pendingDatagramBytes += copy.byteLength;
      this.datagramWriter.write(copy).then(
        () => {
          this.pendingDatagramBytes -= copy.byteLength;
        },
        () => {
          this.pendingDatagramBytes -= copy.byteLength;
        },
      );
    } else {
      const bytes = encodeLengthPrefixed(frame);
      this.pendingBytes += bytes.byteLength;
      this.streamWriter.write(bytes).then(
        () => {
          this.pendingBytes -= bytes.byteLength;
        },
        (err: unknown) => this.fail('link_error', `reliable stream write failed: ${String(err)}`),
      );
    }
    this.counters.sent(channel, frame.byteLength);
    return true;
  }

  close(code: ErrorCode | 'normal' = 'normal', reason = ''): void {
    if (this.closed) return;
    this.session.close({
      closeCode: code === 'normal' ? 0 : 1,
      reason: code === 'normal' ? reason : `${code}: ${reason}`,
    });
    this.finish(code, reason, true);
  }

  stats(): LinkStats {
    return this.counters.stats();
  }

  private async readStream(readable: ReadableStream<Uint8Array>): Promise<void> {
    const decoder = new LengthPrefixedDecoder({ maxFrameBytes: this.maxFrameBytes });
    const reader = readable.getReader();
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done || this.closed) break;
        for (const frame of decoder.push(value)) this.deliver(frame, 'reliable');
      }
      if (!this.closed) this.fail('link_closed', 'the server finished the reliable stream');
    } catch (err) {
      if (!this.closed)
        this.fail(
          err instanceof NetloomError ? err.code : 'link_error',
          err instanceof Error ? err.message : '',
        );
    }
  }

  private async readDatagrams(readable: ReadableStream<Uint8Array>): Promise<void> {
    const reader = readable.getReader();
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done || this.closed) return;
        if (value.byteLength > 0) this.deliver(value, 'unreliable');
      }
    } catch {
      // The session's `closed` promise reports why.
    }
  }

  private deliver(frame: Uint8Array, channel: Channel): void {
    if (this.closed) return;
    const handler = this.frameHandler;
    if (!handler) {
      this.held.push({ frame: frame.slice(), channel });
      return;
    }
    this.counters.received(channel, frame.byteLength);
    try {
      handler(frame, channel);
    } catch (err) {
      this.fail('internal_error', `onframe threw: ${err instanceof Error ? err.message : err}`);
    }
  }

  private fail(code: ErrorCode, reason: string): void {
    if (this.closed) return;
    this.session.close({ closeCode: 1, reason: `${code}: ${reason}` });
    this.finish(code, reason, true);
  }

  private finish(code: ErrorCode | 'normal', reason: string, local: boolean): void {
    if (this.closed) return;
    this.closed = true;
    this.held.length = 0;
    for (const writer of [this.streamWriter, this.datagramWriter]) {
      try {
        writer.releaseLock();
      } catch {
        // Already released, or the stream errored: nothing left to do.
      }
    }
    const handler = this.onclose;
    this.onclose = null;
    this.frameHandler = null;
    handler?.({ code, reason, local });
  }
}
