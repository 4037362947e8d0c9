// The PING/PONG side of a session core: the ping timer, a timed PING or an answering PONG held for a data frame to ride with, and RTT from PONGs.
import { encodeFrame, FrameKind } from '../codec/frames.js';
import type { Link } from '../link/link.js';
import type { Clock, TimerHandle } from '../shared/clock.js';

/** What the pinger reads from the core's options (read live, so interval changes apply). */
export interface PingerOptions {
  pingIntervalMs: number;
  pingHoldMs: number;
  clock: Clock;
}

/** Longest hold a PONG may report (µs); a larger claim counts as this much. */
export const MAX_PONG_HELD_US = 1_000_000;

/**
 * Sends PINGs on a timer while a link is attached, answers the peer's PINGs, and turns PONGs into a
 * smoothed RTT. A timed PING and an answering PONG are each held (`due`) for up to `pingHoldMs` so that
 * the core can send them just before its next data frame, in the same write or packet. A PING's send
 * time is taken when it really goes out; a PONG says how long it was held (`heldUs`), and the side that
 * pinged takes that off its sample, so neither hold skews the RTT.
 */
export class Pinger {
  private pingHeld = false;
  private isDue = false;
  private timer: TimerHandle | null = null;
  private holdTimer: TimerHandle | null = null;
  /** The PING being answered by a held PONG (-1: none), when it arrived, and the timer that sends it anyway. */
  private pongId = -1;
  private pongSince = 0;
  private pongTimer: TimerHandle | null = null;
  private lastId = 0;
  private readonly inFlight = new Map<number, number>();
  private smoothed = 0;
  private samples = 0;

  constructor(
    private readonly options: PingerOptions,
    private readonly link: () => Link | null,
    /** Told whenever `due` changes (the core mirrors it in its own field, read on every send). */
    private readonly dueChanged: (due: boolean) => void = () => {},
  ) {}

  /** A timed PING or a PONG is waiting for a data frame to ride with: the core calls `sendDue()` before that frame. */
  get due(): boolean {
    return this.isDue;
  }

  private updateDue(): void {
    const due = this.pingHeld || this.pongId >= 0;
    if (due === this.isDue) return;
    this.isDue = due;
    this.dueChanged(due);
  }

  /** Sends what is held (a PONG, then a timed PING) now, just before a data frame. */
  sendDue(): void {
    if (this.pongId >= 0) this.sendPong();
    if (this.pingHeld) this.ping();
  }

  /** The peer sent PING `id`: the PONG rides with the next data frame, or goes alone after the hold. */
  answer(id: number): void {
    const hold = this.options.pingHoldMs;
    if (this.pongId >= 0) this.sendPong();
    if (hold <= 0) {
      this.link()?.send('reliable', encodeFrame({ kind: FrameKind.Pong, id }));
      return;
    }
    this.pongId = id;
    this.pongSince = this.options.clock.now();
    this.pongTimer = this.options.clock.setTimeout(() => {
      this.pongTimer = null;
      this.sendPong();
    }, hold);
    this.updateDue();
  }

  /** Smoothed round-trip time in ms (0 until the first PONG). */
  get rtt(): number {
    return this.smoothed;
  }

  /** (Re)starts the timer: the first PING after 100 ms (or the interval, if shorter), then every interval; 0 stops it. */
  start(): void {
    this.clear('timer');
    const every = this.options.pingIntervalMs;
    if (every <= 0) {
      this.clear('holdTimer');
      this.pingHeld = false;
      this.updateDue();
      return;
    }
    const tick = () => {
      this.timer = this.options.clock.setTimeout(tick, every);
      this.hold();
    };
    this.timer = this.options.clock.setTimeout(tick, Math.min(every, 100));
  }

  /** Stops the timers and forgets PINGs in flight and a held PONG (the link is gone). */
  stop(): void {
    this.clear('timer');
    this.clear('holdTimer');
    this.clear('pongTimer');
    this.pingHeld = false;
    this.pongId = -1;
    this.updateDue();
    this.inFlight.clear();
  }

  /** Sends a PING now on the current link (a held one goes with it). */
  ping(): void {
    const link = this.link();
    if (!link) return;
    if (this.pingHeld) {
      this.pingHeld = false;
      this.clear('holdTimer');
      this.updateDue();
    }
    const id = ++this.lastId;
    this.inFlight.set(id, this.options.clock.now());
    if (this.inFlight.size > 16) this.inFlight.delete(this.inFlight.keys().next().value as number);
    link.send('reliable', encodeFrame({ kind: FrameKind.Ping, id }));
  }

  /** A PONG arrived, held `heldUs` µs by the peer: one RTT sample, if it answers a PING in flight. */
  pong(id: number, heldUs = 0): void {
    const sentAt = this.inFlight.get(id);
    if (sentAt === undefined) return;
    this.inFlight.delete(id);
    const elapsed = this.options.clock.now() - sentAt;
    const sample = Math.max(0, elapsed - Math.min(heldUs, MAX_PONG_HELD_US) / 1000);
    // A plain mean over the first 8 samples (so one slow first ping, taken while a page loads, fades
    // fast), then an exponentially weighted mean with weight 1/8 as in TCP's SRTT.
    this.samples++;
    this.smoothed += (sample - this.smoothed) / Math.min(this.samples, 8);
  }

  /** A timed PING: rides with the next data frame, or goes alone after the hold. */
  private hold(): void {
    // At most half the interval, so that a short interval still pings at its own pace.
    const hold = Math.min(this.options.pingHoldMs, this.options.pingIntervalMs / 2);
    if (hold <= 0) {
      this.ping();
      return;
    }
    if (this.pingHeld) return;
    this.pingHeld = true;
    this.updateDue();
    this.holdTimer = this.options.clock.setTimeout(() => {
      this.holdTimer = null;
      this.ping();
    }, hold);
  }

  private sendPong(): void {
    const id = this.pongId;
    this.pongId = -1;
    this.clear('pongTimer');
    this.updateDue();
    const heldUs = Math.round((this.options.clock.now() - this.pongSince) * 1000);
    this.link()?.send('reliable', encodeFrame({ kind: FrameKind.Pong, id, heldUs }));
  }

  private clear(name: 'timer' | 'holdTimer' | 'pongTimer'): void {
    const handle = this[name];
    if (handle !== null) {
      this.options.clock.clearTimeout(handle);
      this[name] = null;
    }
  }
}
