// A link conditioner: wraps any Link with latency, jitter, loss, duplication and reordering, for tests and demos.

import type { ErrorCode } from '../codec/errors.js';
import { type Clock, systemClock, type TimerHandle } from '../shared/clock.js';
import { mulberry32 } from '../shared/random.js';
import { type Channel, type Link, type LinkCloseInfo, LinkCounters, type LinkStats } from './link.js';

export interface ConditionerOptions {
  /** One-way delay added to every frame in each conditioned direction. Default 0. */
  latencyMs?: number;
  /** Each frame's delay is `latencyMs` plus a uniform sample in [-jitterMs, +jitterMs], never below 0. Default 0. */
  jitterMs?: number;
  /** Probability (0..1) that an unreliable frame is lost. Default 0. */
  loss?: number;
  /** Probability (0..1) that an unreliable frame is delivered twice (each copy delayed on its own). Default 0. */
  duplicate?: number;
  /** Probability (0..1) that an unreliable frame is held back by `reorderDelayMs`, so later ones overtake it. Default 0. */
  reorder?: number;
  /** Extra delay of a reordered frame. Default max(10, latencyMs). */
  reorderDelayMs?: number;
  /** Which traffic is conditioned: outgoing sends, incoming frames, or both. Default 'both'. */
  direction?: 'both' | 'send' | 'receive';
  /** Seed of the PRNG (mulberry32); the same seed and traffic give the same losses and delays. Default 1. */
  seed?: number;
}

/** What the conditioner did to the unreliable channel, summed over both directions. */
export interface ConditionerCounters {
  lost: number;
  duplicated: number;
  reordered: number;
}

/**
 * A Link seen through a conditioner. The reliable channel only gets latency and jitter and stays
 * ordered and complete (a frame is delivered at max(previous delivery, now + delay)); loss,
 * duplication and reordering apply to the unreliable channel. Frames held back are copied.
 * `send` accepts a delayed frame (true) before the inner link has seen it; if the inner link
 * then drops an unreliable frame it is counted in `droppedOut`.
 */
export interface ConditionedLink extends Link {
  /** The wrapped link; the conditioner owns its `onframe` and `onclose`. */
  readonly inner: Link;
  /**
   * Ends the link as a network failure would: pending frames are discarded, the inner link is
   * closed, and `onclose` fires with `local: false` and code `link_closed`. For tests of resume.
   */
  kill(reason?: string): void;
  conditionerStats(): ConditionerCounters;
}

export { mulberry32 };

/** Wraps `link` (taking over its `onframe` and `onclose`) with the given network conditions. */
export function conditionLink(
  link: Link,
  options: ConditionerOptions = {},
  clock: Clock = systemClock,
): ConditionedLink {
  return new Conditioned(link, options, clock);
}

const OUT = 0;
const IN = 1;
const CLOSE = 2;

interface Pending {
  at: number;
  seq: number;
  kind: typeof OUT | typeof IN | typeof CLOSE;
  channel: Channel;
  frame: Uint8Array;
  info?: LinkCloseInfo;
}

const EMPTY = new Uint8Array(0);

class Conditioned implements ConditionedLink {
  readonly transport: Link['transport'];
  onframe: ((frame: Uint8Array, channel: Channel) => void) | null = null;
  onclose: ((info: LinkCloseInfo) => void) | null = null;

  private closed = false;
  private innerDown = false;
  private readonly counters = new LinkCounters();
  private readonly effects: ConditionerCounters = { lost: 0, duplicated: 0, reordered: 0 };
  private readonly random: () => number;
  private readonly latency: number;
  private readonly jitter: number;
  private readonly reorderDelay: number;
  private readonly onSend: boolean;
  private readonly onReceive: boolean;
  private readonly queue = new PendingHeap();
  private seq = 0;
  private timer: TimerHandle | null = null;
  private timerAt = Number.POSITIVE_INFINITY;
  private lastReliableOut = Number.NEGATIVE_INFINITY;
  private lastReliableIn = Number.NEGATIVE_INFINITY;
  private pendingReliableOut = 0;
  private pendingReliableIn = 0;
  private pendingOutBytes = 0;

  constructor(
    readonly inner: Link,
    private readonly options: ConditionerOptions,
    private readonly clock: Clock,
  ) {
    this.transport = inner.transport;
    this.random = mulberry32(options.seed ?? 1);
    this.latency = Math.max(0, options.latencyMs ?? 0);
    this.jitter = Math.max(0, options.jitterMs ?? 0);
    this.reorderDelay = options.reorderDelayMs ?? Math.max(10, this.latency);
    const direction = options.direction ?? 'both';
    this.onSend = direction !== 'receive';
    this.onReceive = direction !== 'send';
    inner.onframe = (frame, channel) => this.receive(frame, channel);
    inner.onclose = (info) => this.innerClosed(info);
    if (!inner.isOpen) this.innerDown = true;
  }

  get isOpen(): boolean {
    return !this.closed;
  }

  get bufferedBytes(): number {
    return this.inner.bufferedBytes + this.pendingOutBytes;
  }

  send(channel: Channel, frame: Uint8Array): boolean {
    if (this.closed || this.innerDown) {
      if (channel === 'unreliable') this.counters.droppedOut++;
      return false;
    }
    if (frame.byteLength === 0) return false;
    if (!this.onSend) return this.sendNow(channel, frame, true);
    if (channel === 'reliable') {
      const now = this.clock.now();
      const at = Math.max(this.lastReliableOut, now + this.delay());
      this.lastReliableOut = at;
      if (at <= now && this.pendingReliableOut === 0) return this.sendNow(channel, frame, true);
      this.pendingReliableOut++;
      this.schedule(at, OUT, channel, new Uint8Array(frame));
      this.countOut(channel, frame.byteLength);
      return true;
    }
    const delays = this.unreliableDelays();
    if (delays.length === 1 && delays[0] <= 0) return this.sendNow(channel, frame, true);
    this.countOut(channel, frame.byteLength);
    const now = this.clock.now();
    let copy: Uint8Array | null = null;
    for (const d of delays) {
      if (d <= 0) this.sendNow(channel, frame, false);
      else {
        copy ??= new Uint8Array(frame);
        this.schedule(now + d, OUT, channel, copy);
      }
    }
    return true;
  }

  close(code: ErrorCode | 'normal' = 'normal', reason = ''): void {
    if (this.closed) return;
    // An orderly close still delivers the reliable frames already accepted, without their delay.
    const reliableOut = this.queue.drain().filter((p) => p.kind === OUT && p.channel === 'reliable');
    this.closed = true;
    this.stopTimer();
    this.pendingOutBytes = 0;
    if (!this.innerDown) for (const p of reliableOut) this.inner.send('reliable', p.frame);
    this.inner.close(code, reason);
    this.onclose?.({ code, reason, local: true });
  }

  kill(reason = 'killed by the link conditioner'): void {
    if (this.closed) return;
    this.finish();
    this.inner.close('link_closed', reason);
    this.onclose?.({ code: 'link_closed', reason, local: false });
  }

  stats(): LinkStats {
    return this.counters.stats();
  }

  conditionerStats(): ConditionerCounters {
    return { ...this.effects };
  }

  /** One frame from the inner link (valid only during this call). */
  private receive(frame: Uint8Array, channel: Channel): void {
    if (this.closed) return;
    if (!this.onReceive) {
      this.deliver(frame, channel);
      return;
    }
    const now = this.clock.now();
    if (channel === 'reliable') {
      const at = Math.max(this.lastReliableIn, now + this.delay());
      this.lastReliableIn = at;
      if (at <= now && this.pendingReliableIn === 0) {
        this.deliver(frame, channel);
        return;
      }
      this.pendingReliableIn++;
      this.schedule(at, IN, channel, new Uint8Array(frame));
      return;
    }
    let copy: Uint8Array | null = null;
    for (const d of this.unreliableDelays()) {
      if (d <= 0) this.deliver(frame, channel);
      else {
        copy ??= new Uint8Array(frame);
        this.schedule(now + d, IN, channel, copy);
      }
      if (this.closed) return;
    }
  }

  /** The inner link ended: reliable frames it had already received are still delivered first. */
  private innerClosed(info: LinkCloseInfo): void {
    if (this.closed || this.innerDown) return;
    this.innerDown = true;
    const closeInfo = { ...info, local: false };
    if (this.pendingReliableIn === 0) {
      this.finish();
      this.onclose?.(closeInfo);
      return;
    }
    this.schedule(Math.max(this.clock.now(), this.lastReliableIn), CLOSE, 'reliable', EMPTY, closeInfo);
  }

  /** Delays for the copies of one unreliable frame: none when lost, two when duplicated. */
  private unreliableDelays(): number[] {
    const { loss = 0, duplicate = 0, reorder = 0 } = this.options;
    if (loss > 0 && this.random() < loss) {
      this.effects.lost++;
      return [];
    }
    const copies = duplicate > 0 && this.random() < duplicate ? 2 : 1;
    if (copies === 2) this.effects.duplicated++;
    const delays: number[] = [];
    for (let i = 0; i < copies; i++) {
      let d = this.delay();
      if (reorder > 0 && this.random() < reorder) {
        this.effects.reordered++;
        d += this.reorderDelay;
      }
      delays.push(d);
    }
    return delays;
  }

  private delay(): number {
    if (this.jitter === 0) return this.latency;
    return Math.max(0, this.latency + (this.random() * 2 - 1) * this.jitter);
  }

  private sendNow(channel: Channel, frame: Uint8Array, count: boolean): boolean {
    const ok = this.inner.send(channel, frame);
    if (!ok && channel === 'unreliable') this.counters.droppedOut++;
    if (ok && count) this.countOut(channel, frame.byteLength);
    return ok;
  }

  private countOut(channel: Channel, bytes: number): void {
    this.counters.sent(channel, bytes);
  }

  private deliver(frame: Uint8Array, channel: Channel): void {
    this.counters.received(channel, frame.byteLength);
    this.onframe?.(frame, channel);
  }

  private schedule(
    at: number,
    kind: Pending['kind'],
    channel: Channel,
    frame: Uint8Array,
    info?: LinkCloseInfo,
  ) {
    if (kind === OUT) this.pendingOutBytes += frame.byteLength;
    this.queue.push({ at, seq: this.seq++, kind, channel, frame, info });
    this.arm();
  }

  private arm(): void {
    const next = this.queue.peek();
    if (!next) {
      this.stopTimer();
      return;
    }
    if (this.timer !== null && this.timerAt <= next.at) return;
    this.stopTimer();
    this.timerAt = next.at;
    this.timer = this.clock.setTimeout(this.fire, Math.max(0, next.at - this.clock.now()));
  }

  private stopTimer(): void {
    if (this.timer !== null) this.clock.clearTimeout(this.timer);
    this.timer = null;
    this.timerAt = Number.POSITIVE_INFINITY;
  }

  private readonly fire = (): void => {
    this.timer = null;
    this.timerAt = Number.POSITIVE_INFINITY;
    const now = this.clock.now();
    for (let next = this.queue.peek(); next && next.at <= now && !this.closed; next = this.queue.peek()) {
      this.queue.pop();
      try {
        this.run(next);
      } catch (err) {
        // A throwing handler must not escape into the timer; the link ends as the inner one would.
        const reason = `onframe threw: ${err instanceof Error ? err.message : String(err)}`;
        this.finish();
        this.inner.close('internal_error', reason);
        this.onclose?.({ code: 'internal_error', reason, local: false });
      }
    }
    if (!this.closed) this.arm();
  };

  private run(p: Pending): void {
    if (p.kind === OUT) {
      this.pendingOutBytes -= p.frame.byteLength;
      if (p.channel === 'reliable') this.pendingReliableOut--;
      if (this.innerDown) return;
      if (!this.inner.send(p.channel, p.frame) && p.channel === 'unreliable') this.counters.droppedOut++;
    } else if (p.kind === IN) {
      if (p.channel === 'reliable') this.pendingReliableIn--;
      this.deliver(p.frame, p.channel);
    } else {
      this.finish();
      this.onclose?.(p.info!);
    }
  }

  /** Marks the link closed and discards everything pending. */
  private finish(): void {
    this.closed = true;
    this.queue.drain();
    this.stopTimer();
    this.pendingOutBytes = 0;
  }
}

/** A binary min-heap of pending frames ordered by (time, arrival). */
class PendingHeap {
  private items: Pending[] = [];

  peek(): Pending | undefined {
    return this.items[0];
  }

  push(item: Pending): void {
    const a = this.items;
    a.push(item);
    let i = a.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(a[i], a[parent])) break;
      [a[i], a[parent]] = [a[parent], a[i]];
      i = parent;
    }
  }

  pop(): Pending | undefined {
    const a = this.items;
    const top = a[0];
    const last = a.pop();
    if (a.length > 0 && last) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && before(a[l], a[m])) m = l;
        if (r < a.length && before(a[r], a[m])) m = r;
        if (m === i) break;
        [a[i], a[m]] = [a[m], a[i]];
        i = m;
      }
    }
    return top;
  }

  /** Removes and returns everything, in delivery order. */
  drain(): Pending[] {
    const all = this.items.sort((x, y) => (before(x, y) ? -1 : 1));
    this.items = [];
    return all;
  }
}

function before(x: Pending, y: Pending): boolean {
  return x.at < y.at || (x.at === y.at && x.seq < y.seq);
}
