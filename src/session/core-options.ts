// The sequencing core's tunables (with defaults) and the statistics it reports.
import type { ChannelCounters } from '../link/link.js';
import { type Clock, systemClock } from '../shared/clock.js';

/** Tunables of the sequencing core; each has a default. */
export interface SessionCoreOptions {
  /** Bytes of unacknowledged reliable frames kept for resend before the session fails (default 1 MiB). */
  maxBufferBytes: number;
  /** Send an ACK at once after this many reliable frames were delivered without one (default 16). */
  ackEveryFrames: number;
  /** Otherwise send an ACK this long after the first unacknowledged delivery (default 20 ms). */
  ackDelayMs: number;
  /** Interval between PINGs while a link is attached (default 1000 ms; 0 disables). */
  pingIntervalMs: number;
  /**
   * A timed PING, and a PONG answering the peer's PING, wait up to this long for a data frame to ride
   * with (default 50 ms; 0 sends both at once): each goes out just before that frame, in the same turn,
   * so a transport that packs one turn's writes together (QUIC, a corked socket) sends one packet instead
   * of two. Round-trip time is still measured from the PING's real send, less the PONG's reported hold.
   */
  pingHoldMs: number;
  clock: Clock;
  /**
   * Allocates frame buffers. The server passes Node's pooled `Buffer.allocUnsafe`, which costs a
   * fifth of `new Uint8Array` for frames over 64 bytes (the default).
   */
  allocate: (size: number) => Uint8Array;
}

export const DEFAULT_SESSION_CORE_OPTIONS: SessionCoreOptions = {
  maxBufferBytes: 1 << 20,
  ackEveryFrames: 16,
  ackDelayMs: 20,
  pingIntervalMs: 1000,
  pingHoldMs: 50,
  clock: systemClock,
  allocate: (size) => new Uint8Array(size),
};

/** Numbers a peer can read to judge the connection. */
export interface SessionStats {
  /** Smoothed round-trip time in ms (0 until the first pong). */
  rtt: number;
  /** Estimated loss of unreliable frames received, 0..1 (exponentially weighted). */
  loss: number;
  bytesIn: ChannelCounters;
  bytesOut: ChannelCounters;
  /** Data messages delivered (reliable: once each; unreliable: fresh ones), per channel. */
  messagesIn: ChannelCounters;
  /** Data messages sent (reliable: once each, resends not counted; unreliable: those the link took). */
  messagesOut: ChannelCounters;
  /** Reliable frames resent after a resume. */
  resent: number;
  /** Unreliable frames dropped because they were stale or duplicated. */
  staleDropped: number;
  /** Bytes of reliable frames waiting for an acknowledgement. */
  bufferedBytes: number;
}
