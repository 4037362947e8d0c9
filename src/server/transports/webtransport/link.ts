// The netloom Link over a WebTransport session (server side): datagrams for unreliable frames, one bidi stream for reliable ones.
import { varuintSize, writeVaruint } from '../../../codec/bytes.js';
import { type ErrorCode, NetloomError } from '../../../codec/errors.js';
import { encodeLengthPrefixed, LengthPrefixedDecoder } from '../../../codec/stream-framing.js';
import { type Channel, FRAME_SPARE_BYTES } from '../../../link/link.js';
import { definedOnly } from '../../../shared/options.js';
import { decodeWtClose, encodeWtClose, WebTransportLinkBase } from './link-base.js';
import type { WtSession, WtStream } from './wt-session.js';

export interface WebTransportLinkOptions {
  /** Largest frame accepted from the peer on either channel; larger ones close the link (`frame_too_large`). Default 65,536. */
  maxFrameBytes?: number;
  /** Unreliable frames are dropped while the reliable stream holds more than this. Default 65,536. */
  unreliableDropBytes?: number;
  /** A reliable send that would take the stream's queue above this closes the link (`slow_consumer`). Default 4 MiB. */
  maxBufferedBytes?: number;
  /** Bytes held for the owner before it sets `onframe`; beyond this the link closes (`buffer_overflow`). Default 1 MiB. */
  maxHeldBytes?: number;
  /** `acceptWebTransportLink`: give up when the client has not opened its stream after this long. Default 10,000 ms. */
  timeoutMs?: number;
}

const DEFAULTS = {
  maxFrameBytes: 65_536,
  unreliableDropBytes: 65_536,
  maxBufferedBytes: 4 * 1024 * 1024,
  maxHeldBytes: 1024 * 1024,
  timeoutMs: 10_000,
};

/**
 * The server's Link over an accepted WebTransport session and the client's reliable stream. Reliable
 * frames are length-prefixed on the stream; unreliable frames are datagrams (one frame each). An unreliable
 * frame larger than the session's datagram limit is refused (`datagram_too_large`, counted in
 * `datagramsTooLarge` and `droppedOut`), never truncated. A close is the close capsule: code 0 for `normal`,
 * 1 with `code: reason` otherwise.
 */
export class WebTransportServerLink extends WebTransportLinkBase {
  private readonly decoder: LengthPrefixedDecoder;
  private readonly limits: typeof DEFAULTS;

  constructor(
    private readonly session: WtSession,
    private readonly stream: WtStream,
    options: WebTransportLinkOptions = {},
  ) {
    const limits = { ...DEFAULTS, ...definedOnly(options) };
    super(limits.maxHeldBytes);
    this.limits = limits;
    this.decoder = new LengthPrefixedDecoder({ maxFrameBytes: limits.maxFrameBytes });
    stream.ondata = (data, fin) => this.streamData(data, fin);
    stream.onreset = () => this.ended({ code: 'link_closed', reason: 'reliable stream reset', local: false });
    session.ondatagram = (data) => {
      if (data.length > this.limits.maxFrameBytes)
        this.fail('frame_too_large', `datagram of ${data.length} bytes`);
      else this.receive(data, 'unreliable', true);
    };
    session.onclose = (info) => {
      if (info.abrupt)
        this.ended({ code: 'link_closed', reason: info.reason || 'connection lost', local: false });
      else this.ended(decodeWtClose(info.code, info.reason));
    };
    if (session.closed)
      queueMicrotask(() => this.ended({ code: 'link_closed', reason: 'session closed', local: false }));
  }

  get bufferedBytes(): number {
    return this.stream.bufferedBytes;
  }

  /** Largest unreliable frame this link sends. */
  get maxUnreliableBytes(): number {
    return this.session.maxDatagramSize;
  }

  send(channel: Channel, frame: Uint8Array): boolean {
    if (this.closed) {
      if (channel === 'unreliable') this.droppedOut++;
      return false;
    }
    const length = frame.length;
    if (length === 0) return false;
    if (channel === 'unreliable') {
      if (length > this.session.maxDatagramSize)
        return this.refuseTooLarge(length, this.session.maxDatagramSize);
      if (this.stream.bufferedBytes > this.limits.unreliableDropBytes || !this.session.sendDatagram(frame)) {
        this.droppedOut++;
        return false;
      }
    } else if (!this.writeReliable(encodeLengthPrefixed(frame), length)) return false;
    this.sent(channel, length);
    return true;
  }

  sendWithSpare(channel: Channel, buffer: Uint8Array): boolean {
    const length = buffer.length - FRAME_SPARE_BYTES;
    if (this.closed || length <= 0) return this.send(channel, buffer.subarray(FRAME_SPARE_BYTES));
    if (channel === 'unreliable') {
      if (length > this.session.maxDatagramSize)
        return this.refuseTooLarge(length, this.session.maxDatagramSize);
      if (
        this.session.datagramPrefixSize > FRAME_SPARE_BYTES ||
        this.stream.bufferedBytes > this.limits.unreliableDropBytes ||
        !this.session.sendDatagramInPlace(buffer, FRAME_SPARE_BYTES)
      ) {
        this.droppedOut++;
        return false;
      }
    } else {
      const prefix = varuintSize(length);
      if (prefix > FRAME_SPARE_BYTES) return this.send(channel, buffer.subarray(FRAME_SPARE_BYTES));
      const start = FRAME_SPARE_BYTES - prefix;
      writeVaruint(buffer, start, length);
      if (!this.writeReliable(buffer.subarray(start), length)) return false;
    }
    this.sent(channel, length);
    return true;
  }

  protected shutdown(code: ErrorCode | 'normal', reason: string): void {
    const { closeCode, reason: message } = encodeWtClose(code, reason);
    this.session.close(closeCode, message);
  }

  private writeReliable(bytes: Uint8Array, length: number): boolean {
    if (length > this.limits.maxFrameBytes) {
      this.lastSendError = new NetloomError('message_too_large', `reliable frame of ${length} bytes`);
      this.fail(
        'message_too_large',
        `reliable frame of ${length} bytes (limit ${this.limits.maxFrameBytes})`,
      );
      return false;
    }
    if (
      this.stream.bufferedBytes + bytes.length > this.limits.maxBufferedBytes ||
      !this.stream.write(bytes)
    ) {
      this.fail('slow_consumer', `send buffer would exceed ${this.limits.maxBufferedBytes} bytes`);
      return false;
    }
    return true;
  }

  private streamData(data: Uint8Array, fin: boolean): void {
    if (this.closed) return;
    let frames: Uint8Array[];
    try {
      frames = this.decoder.push(data);
    } catch (err) {
      const e = err instanceof NetloomError ? err : new NetloomError('frame_malformed', String(err));
      this.fail(e.code, e.message);
      return;
    }
    for (const frame of frames) this.receive(frame, 'reliable', true);
    if (fin) this.ended({ code: 'link_closed', reason: 'reliable stream ended', local: false });
  }
}

/**
 * Waits for the client's reliable stream on a new session and returns the server Link. Rejects with
 * `link_error` when the session closes first or the stream does not come within `timeoutMs`.
 */
export function acceptWebTransportLink(
  session: WtSession,
  options: WebTransportLinkOptions = {},
): Promise<WebTransportServerLink> {
  const timeoutMs = options.timeoutMs ?? DEFAULTS.timeoutMs;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      session.onstream = null;
      session.close(1, 'handshake_timeout: no reliable stream');
      reject(new NetloomError('link_error', `no reliable stream within ${timeoutMs} ms`));
    }, timeoutMs);
    session.onclose = () => {
      clearTimeout(timer);
      reject(new NetloomError('link_error', 'session closed before its reliable stream opened'));
    };
    session.onstream = (stream) => {
      if (!stream.bidirectional) {
        stream.reset(0);
        return;
      }
      clearTimeout(timer);
      session.onstream = (extra) => extra.reset(0);
      resolve(new WebTransportServerLink(session, stream, options));
    };
  });
}
