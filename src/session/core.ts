// The reliable/unreliable sequencing core of a session, shared by client and server: numbering, acks, resend buffer, RTT and loss.

import { NetloomError } from '../codec/errors.js';
import { encodeFrame, encodeRoomFrame, type Frame, FrameKind, type Message } from '../codec/frames.js';
import { type Channel, FRAME_SPARE_BYTES, type Link, sendSpared, withSpare } from '../link/link.js';
import type { TimerHandle } from '../shared/clock.js';
import { DEFAULT_SESSION_CORE_OPTIONS, type SessionCoreOptions, type SessionStats } from './core-options.js';
import { Pinger } from './pinger.js';

export { DEFAULT_SESSION_CORE_OPTIONS, type SessionCoreOptions, type SessionStats } from './core-options.js';

const UNRELIABLE_HALF_WINDOW = 0x8000;

/**
 * Sequencing for one session. The owner decodes frames, handles the handshake and passes data,
 * ack and ping frames to `receive`. Reliable messages come out of `onmessage` exactly once and in
 * order across any number of links; unreliable ones come out unless stale.
 */
export class SessionCore {
  readonly options: SessionCoreOptions;
  /** Called for every message delivered: reliable ones in order, once; unreliable ones when fresh. */
  onmessage: ((message: Message, reliable: boolean) => void) | null = null;
  /** Called once when the core cannot go on (buffer overflow, impossible sequence numbers). */
  onfatal: ((error: NetloomError) => void) | null = null;

  private link: Link | null = null;
  private nextSeq = 1;
  private readonly buffer: Uint8Array[] = [];
  private bufferHead = 0;
  /** Sequence number of buffer[bufferHead]. */
  private bufferFirstSeq = 1;
  private bufferBytes = 0;
  private delivered = 0;
  private ackSent = 0;
  private ackTimer: TimerHandle | null = null;
  private unreliableSeq = 0;
  private lastUnreliable = -1;
  private readonly pinger: Pinger;
  /**
   * Mirrors `pinger.due` (a PING or PONG is held), and `allocate` mirrors `options.allocate`: the send
   * path reads only this object.
   */
  private pingerDue = false;
  private readonly allocate: (size: number) => Uint8Array;
  private loss = 0;
  private resent = 0;
  private staleDropped = 0;
  private failed = false;
  // Traffic counters as flat fields: the per-message updates touch no other object.
  private reliableBytesIn = 0;
  private unreliableBytesIn = 0;
  private reliableBytesOut = 0;
  private unreliableBytesOut = 0;
  private reliableMessagesIn = 0;
  private unreliableMessagesIn = 0;
  private reliableMessagesOut = 0;
  private unreliableMessagesOut = 0;

  constructor(options: Partial<SessionCoreOptions> = {}) {
    this.options = { ...DEFAULT_SESSION_CORE_OPTIONS, ...options };
    this.allocate = this.options.allocate;
    this.pinger = new Pinger(
      this.options,
      () => this.link,
      (due) => {
        this.pingerDue = due;
      },
    );
  }

  /** Highest reliable sequence number delivered so far (0 = none). */
  get lastReceived(): number {
    return this.delivered;
  }

  /** The link in use, or null while detached. */
  get currentLink(): Link | null {
    return this.link;
  }

  /**
   * Starts using `link`: frames the peer already has (up to `peerLastReceived`) leave the
   * buffer, the rest are resent in order. Throws `sequence_invalid` when the peer claims to
   * have frames never sent or frames already dropped from the buffer.
   */
  attach(link: Link, peerLastReceived: number): void {
    this.trimTo(peerLastReceived);
    this.link = link;
    for (let i = this.bufferHead; i < this.buffer.length; i++) {
      const spared = this.buffer[i];
      this.resent++;
      this.reliableBytesOut += spared.length - FRAME_SPARE_BYTES;
      sendSpared(link, 'reliable', spared);
    }
    if (this.delivered > this.ackSent) this.sendAck();
    this.pinger.start();
  }

  /** Highest reliable sequence number the peer has acknowledged (0 = none). */
  get acked(): number {
    return this.bufferFirstSeq - 1;
  }

  /**
   * Moves sending to `link` while the old link may still deliver (a transport switch): like
   * `attach`, but a `peerLastReceived` below what the peer already acknowledged (an older value
   * that arrived late on another link) is not an error. Unacknowledged frames are resent on `link`;
   * the receiver drops those it already delivered. Throws `sequence_invalid` for frames never sent.
   */
  switchTo(link: Link, peerLastReceived = this.acked): void {
    this.attach(link, Math.max(peerLastReceived, this.acked));
  }

  /** Changes the PING interval (0 disables); applies from the next PING on. */
  setPingInterval(ms: number): void {
    this.options.pingIntervalMs = ms;
    if (this.link) this.pinger.start();
  }

  /** Stops using the current link (it died or is being replaced). Reliable frames stay buffered. */
  detach(): void {
    this.link = null;
    this.clearTimer('ackTimer');
    this.pinger.stop();
  }

  /** Sends a room message; see `sendMessage`. */
  sendRoom(reliable: boolean, handle: number, op: number, payload: Uint8Array): boolean {
    if (reliable)
      return this.pushReliable(
        encodeRoomFrame(true, this.nextSeq, handle, op, payload, FRAME_SPARE_BYTES, this.allocate),
      );
    this.unreliableSeq = (this.unreliableSeq + 1) & 0xffff;
    return this.sendUnreliableFrame(
      encodeRoomFrame(false, this.unreliableSeq, handle, op, payload, FRAME_SPARE_BYTES, this.allocate),
    );
  }

  /**
   * Sends a message. Reliable messages are numbered and buffered until acknowledged, and
   * go out now if a link is attached; unreliable ones are sent only if a link is attached
   * and not congested (returns false when dropped).
   */
  sendMessage(message: Message, reliable: boolean): boolean {
    if (reliable)
      return this.pushReliable(
        withSpare(encodeFrame({ kind: FrameKind.Reliable, seq: this.nextSeq, message })),
      );
    this.unreliableSeq = (this.unreliableSeq + 1) & 0xffff;
    return this.sendUnreliableFrame(
      withSpare(encodeFrame({ kind: FrameKind.Unreliable, seq: this.unreliableSeq, message })),
    );
  }

  /** Handles a decoded data, ack, ping or pong frame that arrived on the current link. */
  receive(frame: Frame, size: number): void {
    if (this.failed) return;
    switch (frame.kind) {
      case FrameKind.Reliable: {
        this.reliableBytesIn += size;
        if (frame.seq <= this.delivered) return; // already delivered before a resume
        if (frame.seq !== this.delivered + 1) {
          this.fail(
            new NetloomError('sequence_invalid', `reliable seq ${frame.seq} after ${this.delivered}`),
          );
          return;
        }
        this.delivered = frame.seq;
        this.reliableMessagesIn++;
        this.noteDelivered();
        this.onmessage?.(frame.message, true);
        return;
      }
      case FrameKind.Unreliable:
        if (this.freshUnreliable(frame.seq, size)) this.onmessage?.(frame.message, false);
        return;
      case FrameKind.Ack:
        this.trimAck(frame.lastReceived);
        return;
      case FrameKind.Ping:
        if (this.link) this.pinger.answer(frame.id);
        return;
      case FrameKind.Pong:
        this.pinger.pong(frame.id, frame.heldUs);
        return;
      default:
        return;
    }
  }

  /**
   * Counts an unreliable frame of `size` bytes numbered `seq` that arrived and says whether it is fresh
   * (to be delivered) or stale (dropped). `receive` uses it; a caller that decoded the frame itself
   * (the server's fast path for unreliable room messages) calls it directly and delivers the message.
   */
  freshUnreliable(seq: number, size: number): boolean {
    if (this.failed) return false;
    this.unreliableBytesIn += size;
    if (this.lastUnreliable >= 0) {
      const ahead = (seq - this.lastUnreliable) & 0xffff;
      if (ahead === 0 || ahead >= UNRELIABLE_HALF_WINDOW) {
        this.staleDropped++;
        return false;
      }
      // ahead - 1 frames were skipped: fold them into the loss estimate.
      const lostNow = (ahead - 1) / ahead;
      this.loss += (lostNow - this.loss) * Math.min(1, ahead / 64);
    }
    this.lastUnreliable = seq;
    this.unreliableMessagesIn++;
    return true;
  }

  /** Sends a PING now (also done on a timer while attached). */
  ping(): void {
    this.pinger.ping();
  }

  stats(): SessionStats {
    return {
      rtt: this.pinger.rtt,
      loss: this.loss,
      bytesIn: { reliable: this.reliableBytesIn, unreliable: this.unreliableBytesIn },
      bytesOut: { reliable: this.reliableBytesOut, unreliable: this.unreliableBytesOut },
      messagesIn: { reliable: this.reliableMessagesIn, unreliable: this.unreliableMessagesIn },
      messagesOut: { reliable: this.reliableMessagesOut, unreliable: this.unreliableMessagesOut },
      resent: this.resent,
      staleDropped: this.staleDropped,
      bufferedBytes: this.bufferBytes,
    };
  }

  /** Stops all timers; the core sends nothing more. */
  dispose(): void {
    this.detach();
    this.failed = true;
  }

  /** `spared` is a frame after FRAME_SPARE_BYTES spare bytes (see `Link.sendWithSpare`). */
  private pushReliable(spared: Uint8Array): boolean {
    if (this.failed) return false;
    this.nextSeq++;
    this.reliableMessagesOut++;
    this.buffer.push(spared);
    this.bufferBytes += spared.length - FRAME_SPARE_BYTES;
    if (this.bufferBytes > this.options.maxBufferBytes) {
      this.fail(
        new NetloomError(
          'buffer_overflow',
          `${this.bufferBytes} bytes of unacknowledged reliable frames exceed ${this.options.maxBufferBytes}`,
        ),
      );
      return false;
    }
    const link = this.link;
    if (!link) return true;
    this.reliableBytesOut += spared.length - FRAME_SPARE_BYTES;
    if (this.ackTimer !== null || this.pingerDue) this.sendWithControl(link, 'reliable', spared);
    else sendSpared(link, 'reliable', spared);
    return true;
  }

  private sendUnreliableFrame(spared: Uint8Array): boolean {
    const link = this.link;
    if (!link || this.failed) return false;
    if (
      !(this.ackTimer !== null || this.pingerDue
        ? this.sendWithControl(link, 'unreliable', spared)
        : sendSpared(link, 'unreliable', spared))
    )
      return false;
    this.unreliableMessagesOut++;
    this.unreliableBytesOut += spared.length - FRAME_SPARE_BYTES;
    return true;
  }

  /**
   * Sends a waiting ACK, PONG and timed PING just before a data frame, in one turn and inside one
   * `cork`/`uncork` of the link, so that they share its packet or write (acknowledgements are cumulative:
   * sending one early only makes it more recent).
   */
  private sendWithControl(link: Link, channel: Channel, spared: Uint8Array): boolean {
    link.cork?.();
    try {
      if (this.ackTimer !== null) this.sendAck();
      if (this.pinger.due) this.pinger.sendDue();
      return sendSpared(link, channel, spared);
    } finally {
      link.uncork?.();
    }
  }

  private trimAck(lastReceived: number): void {
    if (lastReceived >= this.nextSeq) {
      this.fail(new NetloomError('sequence_invalid', `ack ${lastReceived} for frames never sent`));
      return;
    }
    if (lastReceived >= this.bufferFirstSeq) this.dropThrough(lastReceived);
  }

  private trimTo(peerLastReceived: number): void {
    if (peerLastReceived >= this.nextSeq || peerLastReceived < this.bufferFirstSeq - 1) {
      throw new NetloomError(
        'sequence_invalid',
        `peer has ${peerLastReceived}, buffer holds ${this.bufferFirstSeq}..${this.nextSeq - 1}`,
      );
    }
    this.dropThrough(peerLastReceived);
  }

  private dropThrough(seq: number): void {
    while (this.bufferFirstSeq <= seq && this.bufferHead < this.buffer.length) {
      this.bufferBytes -= this.buffer[this.bufferHead].length - FRAME_SPARE_BYTES;
      this.bufferHead++;
      this.bufferFirstSeq++;
    }
    if (this.bufferHead === this.buffer.length) {
      this.buffer.length = 0;
      this.bufferHead = 0;
    } else if (this.bufferHead > 1024 && this.bufferHead * 2 > this.buffer.length) {
      this.buffer.splice(0, this.bufferHead);
      this.bufferHead = 0;
    }
  }

  private noteDelivered(): void {
    if (this.delivered - this.ackSent >= this.options.ackEveryFrames) {
      this.sendAck();
    } else if (this.ackTimer === null) {
      this.ackTimer = this.options.clock.setTimeout(() => {
        this.ackTimer = null;
        this.sendAck();
      }, this.options.ackDelayMs);
    }
  }

  private sendAck(): void {
    this.clearTimer('ackTimer');
    const link = this.link;
    if (!link) return;
    this.ackSent = this.delivered;
    link.send('reliable', encodeFrame({ kind: FrameKind.Ack, lastReceived: this.delivered }));
  }

  private clearTimer(name: 'ackTimer'): void {
    const handle = this[name];
    if (handle !== null) {
      this.options.clock.clearTimeout(handle);
      this[name] = null;
    }
  }

  private fail(error: NetloomError): void {
    if (this.failed) return;
    this.failed = true;
    this.detach();
    this.onfatal?.(error);
  }
}
