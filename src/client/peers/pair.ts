// PeerPair: the reliable session between this member and one peer — one sequencing core over the relay link and, when the mesh allows, a direct link, switching between them without loss.
import { NetloomError } from '../../codec/errors.js';
import { decodeFrame, type Frame, FrameKind, type Message, MessageKind } from '../../codec/frames.js';
import type { Link, LinkCloseInfo } from '../../link/link.js';
import { SessionCore } from '../../session/core.js';
import { SessionLinks } from '../../session/links.js';
import type { Clock, TimerHandle } from '../../shared/clock.js';
import type { SignalMessage } from '../../signaling/messages.js';
import { DirectPeer, type DirectPeerOptions } from './direct.js';
import { RelayLink } from './relay-link.js';

/** Which path a pair's frames take: a direct datachannel link, or the server's relay. */
export type PeerPath = 'direct' | 'relay';

/** What a pair needs from the room's peers. */
export interface PairHost {
  clock: Clock;
  /** Sends a frame to the peer through the server; false when the session cannot send. */
  relay(frame: Uint8Array, reliable: boolean): boolean;
  /** Sends a signaling message to the peer through the server. */
  signal(message: SignalMessage): void;
  /** A peer message arrived (reliable ones exactly once, in order). */
  deliver(op: number, payload: Uint8Array, reliable: boolean): void;
  /** The relay refused one of the peer's reliable messages (its place in the sequence holds this notice). */
  skipped(code: string, reason: string): void;
  /** The path changed. */
  path(path: PeerPath, previous: PeerPath): void;
  /** The pair cannot go on (impossible sequence numbers from the peer, buffer overflow). */
  fatal(error: NetloomError): void;
  /** How to open a direct link now, or null when this runtime cannot (relay only). */
  direct(): Omit<DirectPeerOptions, 'connectTimeoutMs'> | null;
  transport: RelayLink['transport'];
}

export interface PairTimings {
  pingIntervalMs: number;
  idleTimeoutMs: number;
  connectTimeoutMs: number;
  /** First retry of a failed direct link (default 1,000 ms), doubling up to `retryMaxMs`. */
  retryBaseMs?: number;
  retryMaxMs?: number;
}

/** Close codes by which a peer (or the server) declines a direct link for good: the offerer stops retrying. */
const DECLINES: ReadonlySet<string> = new Set([
  'transport_unavailable',
  'peer_mesh_refused',
  'signal_peer_unknown',
]);

const FRAME_LIMITS = { maxFrameBytes: 65_536, maxStringBytes: 1_024 };

/**
 * One peer pair, seen from this member. Reliable peer messages are numbered by one SessionCore whatever
 * path they take, exactly as a client's session with the server: the relay link is the base link (always
 * there), the direct link the upgraded one (SWITCH moves sending onto it; when it dies, sending falls back
 * to the relay with a SWITCH there, and the unacknowledged frames are resent). So no reliable message is
 * lost, duplicated or reordered by a change of path. Of the two members, the one with the smaller id
 * offers the direct link and retries it with backoff.
 */
export class PeerPair {
  readonly relayLink: RelayLink;
  private readonly core: SessionCore;
  private readonly links: SessionLinks;
  private current: PeerPath = 'relay';
  private wanted = false;
  private attempt: DirectPeer | null = null;
  private retryTimer: TimerHandle | null = null;
  private failures = 0;
  /** The peer said it cannot or will not link directly: no more offers until the mesh changes. */
  private declined = false;
  private disposed = false;

  constructor(
    readonly id: string,
    private readonly offerer: boolean,
    private readonly host: PairHost,
    private timings: PairTimings,
  ) {
    this.core = new SessionCore({ clock: host.clock, pingIntervalMs: 0 });
    this.core.onmessage = (message, reliable) => this.onMessage(message, reliable);
    this.core.onfatal = (error) => this.host.fatal(error);
    this.relayLink = new RelayLink(
      (frame, reliable) => host.relay(frame, reliable),
      () => host.transport,
    );
    this.links = new SessionLinks(this.core, host.clock, {
      frame: (bytes, link) => this.onFrame(bytes, link),
      baseLost: () => {},
      invalid: (message) => this.host.fatal(new NetloomError('sequence_invalid', message)),
      primary: (link) => this.setPath(link === this.relayLink ? 'relay' : 'direct'),
    });
    this.links.setBase(this.relayLink);
    this.core.attach(this.relayLink, 0);
  }

  get path(): PeerPath {
    return this.current;
  }

  /** Smoothed round-trip time on the direct link (0 until measured; the relay is not pinged). */
  get rtt(): number {
    return this.core.stats().rtt;
  }

  /** Sends one peer message (handle 0, `op` of the peer section). */
  send(op: number, payload: Uint8Array, reliable: boolean): boolean {
    if (this.disposed) return false;
    return this.core.sendRoom(reliable, 0, op, payload);
  }

  /** A frame the server relayed from the peer. */
  fromRelay(frame: Uint8Array, reliable: boolean): void {
    this.relayLink.deliver(frame, reliable ? 'reliable' : 'unreliable');
  }

  /** Whether the mesh wants a direct link for this pair (the set-up said so), with the timings to use. */
  setDirect(wanted: boolean, timings: PairTimings): void {
    this.timings = timings;
    if (wanted !== this.wanted) this.declined = false;
    this.wanted = wanted;
    if (!wanted) {
      this.clearRetry();
      this.closeDirect('normal', 'not in the mesh any more');
    } else if (this.offerer && !this.attempt && this.retryTimer === null && !this.declined) this.dial();
  }

  /** A signaling message from the peer. */
  signal(message: SignalMessage): void {
    if (this.disposed) return;
    if (message.kind === 'offer') {
      if (this.offerer || !this.wanted) {
        this.host.signal({ kind: 'close', code: 'peer_mesh_refused', reason: 'no direct link wanted' });
        return;
      }
      this.closeDirect('normal', 'the peer offers again');
      const options = this.host.direct();
      if (!options) {
        this.host.signal({ kind: 'close', code: 'transport_unavailable', reason: 'no RTCPeerConnection' });
        return;
      }
      this.track(new DirectPeer('answerer', this.directOptions(options), (m) => this.host.signal(m)));
    } else if (message.kind === 'close' && this.offerer && DECLINES.has(message.code ?? 'normal')) {
      this.declined = true;
      this.clearRetry();
    }
    this.attempt?.signal(message);
  }

  /** Checks the direct link for silence; one quiet for `idleTimeoutMs` is closed and sending falls back. */
  checkIdle(now: number): void {
    if (this.current === 'direct') this.links.checkIdle(now, this.timings.idleTimeoutMs);
  }

  /** Ends the pair (the peer left, or this member did). */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.clearRetry();
    this.core.dispose();
    this.links.closeAll('normal', 'peer gone');
    this.attempt?.close('normal', 'peer gone');
    this.attempt = null;
  }

  private dial(): void {
    const options = this.host.direct();
    if (!options || this.disposed) return;
    const attempt = new DirectPeer('offerer', this.directOptions(options), (m) => this.host.signal(m));
    this.track(attempt);
    attempt.start();
  }

  private directOptions(options: Omit<DirectPeerOptions, 'connectTimeoutMs'>): DirectPeerOptions {
    return { ...options, connectTimeoutMs: this.timings.connectTimeoutMs };
  }

  /** Follows one attempt: adopts its link when open, retries (offerer) when it fails or dies. */
  private track(attempt: DirectPeer): void {
    this.attempt = attempt;
    attempt.link.then(
      (link) => {
        if (this.attempt !== attempt || this.disposed) {
          link.close('normal', 'superseded');
          return;
        }
        const added = this.links.addUpgraded(link, { closed: (info) => this.directClosed(attempt, info) });
        if (added && this.links.switchToUpgraded()) this.failures = 0;
      },
      () => this.directClosed(attempt, null),
    );
  }

  private directClosed(attempt: DirectPeer, _info: LinkCloseInfo | null): void {
    if (this.attempt !== attempt) return;
    this.attempt = null;
    attempt.close('normal', 'link gone');
    if (this.disposed || !this.wanted || !this.offerer || this.declined) return;
    this.host.signal({ kind: 'close', code: 'link_closed', reason: 'direct link gone' });
    const base = this.timings.retryBaseMs ?? 1_000;
    const delay = Math.min(this.timings.retryMaxMs ?? 30_000, base * 2 ** this.failures);
    this.failures = Math.min(this.failures + 1, 16);
    this.retryTimer = this.host.clock.setTimeout(() => {
      this.retryTimer = null;
      if (this.wanted && !this.attempt) this.dial();
    }, delay);
  }

  private closeDirect(code: 'normal', reason: string): void {
    const attempt = this.attempt;
    this.attempt = null;
    this.links.closeUpgraded(code, reason);
    attempt?.close(code, reason);
  }

  private clearRetry(): void {
    if (this.retryTimer !== null) this.host.clock.clearTimeout(this.retryTimer);
    this.retryTimer = null;
  }

  private setPath(path: PeerPath): void {
    // Pings keep a direct link's idle clock fed; the relay is the server's business, so it is not pinged.
    this.core.setPingInterval(path === 'direct' ? this.timings.pingIntervalMs : 0);
    const previous = this.current;
    if (previous === path) return;
    this.current = path;
    this.host.path(path, previous);
  }

  private onFrame(bytes: Uint8Array, link: Link): void {
    let frame: Frame;
    try {
      frame = decodeFrame(bytes, FRAME_LIMITS);
    } catch (err) {
      this.host.fatal(err instanceof NetloomError ? err : new NetloomError('frame_malformed', String(err)));
      this.dispose();
      return;
    }
    switch (frame.kind) {
      case FrameKind.Switch:
      case FrameKind.SwitchAck:
        this.links.switchFrame(frame, link);
        return;
      case FrameKind.Reliable:
      case FrameKind.Unreliable:
      case FrameKind.Ack:
      case FrameKind.Ping:
      case FrameKind.Pong:
        this.core.receive(frame, bytes.length);
        return;
      default:
        this.host.fatal(new NetloomError('frame_malformed', 'frame kind not used between peers'));
        this.dispose();
    }
  }

  private onMessage(message: Message, reliable: boolean): void {
    if (message.kind === MessageKind.Room && message.handle === 0)
      this.host.deliver(message.op, message.payload, reliable);
    else if (message.kind === MessageKind.Notice) this.host.skipped(message.code, message.message);
  }
}
