// The client's transport negotiator: after the WebSocket session opens, upgrades it to a better transport (WebTransport directly, WebRTC over SIGNAL), with timeouts and retries.
import type { ErrorCode } from '../codec/errors.js';
import type { Link, LinkCloseInfo, TransportName } from '../link/link.js';
import type { Clock, TimerHandle } from '../shared/clock.js';
import type { CandidateSignal, IceServer, SignalMessage } from '../signaling/messages.js';

/** A remote or local ICE candidate (the shape of RTCIceCandidateInit). */
export interface ClientCandidate {
  candidate: string;
  sdpMid: string | null;
  sdpMLineIndex: number | null;
}

/** What the negotiator needs of a client peer connection (`createClientPeer` returns one). */
export interface UpgradePeer {
  /** Creates the offer (and sets it as the local description). */
  offer(): Promise<string>;
  /** Called with each local candidate to trickle, after `offer()` resolved. */
  onCandidate: ((candidate: ClientCandidate) => void) | null;
  /** Sets the server's answer. */
  setAnswer(sdp: string): Promise<void>;
  /** Adds a remote candidate. */
  addCandidate(candidate: ClientCandidate): unknown;
  /** The link, once both datachannels are open; rejects when the connection fails. */
  readonly link: Promise<Link>;
  close(): void;
}

/** How the client upgrades its session; every field has a default. */
export interface UpgradeOptions {
  /**
   * Transports in order of preference (default `['webtransport', 'webrtc', 'websocket']`). The client
   * always connects over WebSocket first, then upgrades to the first transport listed before
   * `websocket` that the server offers and this runtime has. Not yet built: webtransport (skipped).
   */
  transports: TransportName[];
  /** Time from starting an upgrade to an open link (default 10,000 ms); later: `upgrade_timeout`. */
  timeoutMs: number;
  /** First retry delay after a failed or lost upgrade (default 1,000 ms); doubles per failure, with jitter. */
  retryBaseMs: number;
  /** Longest retry delay (default 30,000 ms). An upgrade that lived this long resets the backoff. */
  retryMaxMs: number;
  /** Remote candidates held while the answer is not set yet (default 64; more are dropped). */
  maxQueuedCandidates: number;
}

export const DEFAULT_UPGRADE_OPTIONS: UpgradeOptions = {
  transports: ['webtransport', 'webrtc', 'websocket'],
  timeoutMs: 10_000,
  retryBaseMs: 1_000,
  retryMaxMs: 30_000,
  maxQueuedCandidates: 64,
};

/** What the negotiator needs from its connection. */
export interface UpgradeHost {
  clock: Clock;
  random: () => number;
  /** Sends a SIGNAL to the server's peer; false when the session cannot send. */
  signal(message: SignalMessage): boolean;
  /** Adds the open link to the session and switches to it; false when the session cannot take it. */
  adopt(link: Link, hooks: { acked(): void; closed(info: LinkCloseInfo): void }): boolean;
  /** Tells the app (once SWITCH_ACK arrived) or the logs (failures) what happened. */
  report(event: UpgradeEvent): void;
  /** The session's secret token (a direct transport presents it to attach its link to this session). */
  sessionToken?(): string;
}

/** What an upgrade attempt came to. */
export type UpgradeEvent =
  | { type: 'upgraded'; transport: TransportName }
  /** `retryInMs` is -1 when the server offers no upgrade (`transport_unavailable`): no retry. */
  | { type: 'failed'; code: ErrorCode | 'normal'; retryInMs: number }
  | { type: 'lost'; code: ErrorCode | 'normal'; retryInMs: number };

/**
 * A way to reach the server over one transport; `available` false means this runtime lacks it or the
 * server does not offer it. A signaled transport (WebRTC) makes a peer that negotiates over SIGNAL; a
 * direct one (WebTransport) opens its link itself, presenting the session token.
 */
export type UpgradeTransport =
  | { name: TransportName; available(): boolean; createPeer(iceServers: IceServer[]): UpgradePeer }
  | { name: TransportName; available(): boolean; connect(sessionToken: string): Promise<Link> };

type Phase = 'idle' | 'waiting' | 'offering' | 'switching' | 'active';

/**
 * Upgrades one session from its WebSocket to a better transport. `start` after the session opens
 * (and after every resume); `signal` with each SIGNAL from the server peer; `stop` when the base
 * link is lost or the session ends. One attempt at a time: create the peer, send the offer and the
 * local candidates, set the answer (remote candidates are held until then), wait for the link
 * (`timeoutMs`), then hand it to the connection, which switches. A failed attempt or a lost link
 * is closed on both sides and retried with exponential backoff.
 */
export class Upgrader {
  private phase: Phase = 'idle';
  private peer: UpgradePeer | null = null;
  private timer: TimerHandle | null = null;
  private failures = 0;
  private activeSince = 0;
  /** The answer arrived (and is being set). */
  private answerSet = false;
  /** The answer is set: remote candidates go straight to the peer. */
  private remoteSet = false;
  private remoteQueue: ClientCandidate[] = [];
  /** The server said it offers no upgrade (`transport_unavailable`): never try again on this session. */
  private refused = false;
  private readonly options: UpgradeOptions;

  /** Transports worth trying, best first (preference order, before `websocket`). */
  private readonly candidates: UpgradeTransport[];
  /** Index in `candidates` of the next transport to try; moves on after a failure. */
  private next = 0;
  private transport: UpgradeTransport | null = null;

  constructor(
    private readonly host: UpgradeHost,
    transports: UpgradeTransport | UpgradeTransport[] | null,
    private readonly iceServers: IceServer[],
    options: Partial<UpgradeOptions> = {},
  ) {
    this.options = { ...DEFAULT_UPGRADE_OPTIONS, ...options };
    const order = this.options.transports;
    const ws = order.indexOf('websocket');
    const rank = (t: UpgradeTransport) => order.indexOf(t.name);
    this.candidates = (transports === null ? [] : Array.isArray(transports) ? transports : [transports])
      .filter((t) => rank(t) >= 0 && (ws < 0 || rank(t) < ws))
      .sort((a, b) => rank(a) - rank(b));
  }

  /** True when this client should upgrade: a preferred transport that the server offers and this runtime has. */
  get wanted(): boolean {
    return this.candidates.some(usable);
  }

  /** The transport of the next attempt: the best usable one, starting where the last failure left off. */
  private pick(): UpgradeTransport | null {
    const n = this.candidates.length;
    for (let i = 0; i < n; i++) {
      const t = this.candidates[(this.next + i) % n];
      if (usable(t)) {
        this.next = (this.next + i) % n;
        return t;
      }
    }
    return null;
  }

  /** Where the negotiation stands (for tests and stats). */
  get state(): Phase {
    return this.phase;
  }

  /** The session is open on its base link: upgrade now if wanted. */
  start(): void {
    if (this.phase !== 'idle' || this.refused || !this.wanted) return;
    this.attempt();
  }

  /** The base link was lost or the session ended: abandon the attempt (without telling the server). */
  stop(): void {
    this.clearTimer();
    this.closePeer();
    this.phase = 'idle';
  }

  /** A SIGNAL from the server's peer. */
  signal(message: SignalMessage): void {
    const peer = this.peer;
    switch (message.kind) {
      case 'answer':
        if (!peer || this.phase !== 'offering' || this.answerSet) return;
        this.answerSet = true;
        peer.setAnswer(message.sdp).then(
          () => {
            if (this.peer !== peer) return;
            this.remoteSet = true;
            for (const c of this.remoteQueue.splice(0)) this.addRemote(peer, c);
          },
          () => {
            if (this.peer === peer) this.fail('upgrade_failed', true);
          },
        );
        return;
      case 'candidate': {
        if (!peer || message.candidate === null) return;
        const c = toCandidate(message);
        if (this.remoteSet) this.addRemote(peer, c);
        else if (this.remoteQueue.length < this.options.maxQueuedCandidates) this.remoteQueue.push(c);
        return;
      }
      case 'close':
        // The server refused or dropped its peer; nothing to tell it back.
        if (message.code === 'transport_unavailable') this.refused = true;
        if (peer && (this.phase === 'offering' || this.phase === 'switching'))
          this.fail(message.code ?? 'peer_closed', false);
        return;
      default:
        return; // the server never offers nor restarts
    }
  }

  private attempt(): void {
    this.clearTimer();
    const transport = this.pick();
    this.transport = transport;
    if (!transport) return;
    if ('connect' in transport) {
      this.attemptDirect(transport);
      return;
    }
    let peer: UpgradePeer;
    try {
      peer = transport.createPeer(this.iceServers);
    } catch {
      this.fail('upgrade_failed', false);
      return;
    }
    this.peer = peer;
    this.phase = 'offering';
    this.answerSet = false;
    this.remoteSet = false;
    this.remoteQueue = [];
    let offerSent = false;
    const localQueue: ClientCandidate[] = [];
    const sendCandidate = (c: ClientCandidate) =>
      this.host.signal({
        kind: 'candidate',
        candidate: c.candidate,
        sdpMid: c.sdpMid,
        sdpMLineIndex: c.sdpMLineIndex,
      });
    peer.onCandidate = (c) => {
      if (this.peer !== peer) return;
      if (offerSent) sendCandidate(c);
      else localQueue.push(c);
    };
    this.timer = this.host.clock.setTimeout(() => {
      this.timer = null;
      if (this.peer === peer) this.fail('upgrade_timeout', true);
    }, this.options.timeoutMs);
    peer.offer().then(
      (sdp) => {
        if (this.peer !== peer) return;
        if (!this.host.signal({ kind: 'offer', sdp })) {
          this.fail('link_closed', false);
          return;
        }
        offerSent = true;
        for (const c of localQueue.splice(0)) sendCandidate(c);
      },
      () => {
        if (this.peer === peer) this.fail('upgrade_failed', false);
      },
    );
    peer.link.then(
      (link) => this.linked(peer, link),
      () => {
        if (this.peer === peer) this.fail('upgrade_failed', true);
      },
    );
  }

  /** A direct transport: open the link (it attaches itself to the session with the token), then switch. */
  private attemptDirect(transport: Extract<UpgradeTransport, { connect: unknown }>): void {
    const token = this.host.sessionToken?.() ?? '';
    const pending = Promise.resolve().then(() => transport.connect(token));
    let opened: Link | null = null;
    const peer: UpgradePeer = {
      offer: async () => '',
      onCandidate: null,
      setAnswer: async () => {},
      addCandidate: () => undefined,
      link: pending,
      close: () => {
        if (opened) opened.close('normal', 'upgrade closed');
        else pending.then((l) => l.close('normal', 'upgrade abandoned')).catch(() => undefined);
      },
    };
    this.peer = peer;
    this.phase = 'offering';
    this.timer = this.host.clock.setTimeout(() => {
      this.timer = null;
      if (this.peer === peer) this.fail('upgrade_timeout', false);
    }, this.options.timeoutMs);
    pending.then(
      (link) => {
        opened = link;
        this.linked(peer, link);
      },
      () => {
        if (this.peer === peer) this.fail('upgrade_failed', false);
      },
    );
  }

  private linked(peer: UpgradePeer, link: Link): void {
    if (this.peer !== peer || this.phase !== 'offering') {
      link.close('normal', 'upgrade abandoned');
      return;
    }
    this.phase = 'switching';
    const adopted = this.host.adopt(link, {
      acked: () => {
        if (this.peer !== peer || this.phase !== 'switching') return;
        this.clearTimer();
        this.phase = 'active';
        this.activeSince = this.host.clock.now();
        this.host.report({ type: 'upgraded', transport: link.transport });
      },
      closed: (info) => {
        if (this.peer !== peer) return;
        const lived = this.phase === 'active' ? this.host.clock.now() - this.activeSince : 0;
        if (lived >= this.options.retryMaxMs) this.failures = 0;
        this.closePeer();
        this.phase = 'idle';
        this.retry(info.code, 'lost');
      },
    });
    if (!adopted) this.fail('link_closed', true);
  }

  private addRemote(peer: UpgradePeer, c: ClientCandidate): void {
    Promise.resolve()
      .then(() => peer.addCandidate(c))
      .catch(() => undefined); // a candidate the stack rejects is just not used
  }

  /** Ends the attempt: closes the peer, tells the server when `tellServer`, and retries later. */
  private fail(code: ErrorCode | 'normal', tellServer: boolean): void {
    this.clearTimer();
    this.closePeer();
    this.phase = 'idle';
    if (tellServer) this.host.signal({ kind: 'close', code, reason: 'client gave up the upgrade' });
    this.retry(code, 'failed');
  }

  private retry(code: ErrorCode | 'normal', type: 'failed' | 'lost'): void {
    this.failures++;
    // The next attempt tries the next transport (e.g. WebRTC after WebTransport failed on a UDP-hostile path).
    if (this.candidates.length > 1) this.next = (this.next + 1) % this.candidates.length;
    if (this.refused) {
      this.phase = 'idle';
      this.host.report({ type, code, retryInMs: -1 });
      return;
    }
    const { retryBaseMs, retryMaxMs } = this.options;
    const delay =
      Math.min(retryMaxMs, retryBaseMs * 2 ** (this.failures - 1)) * (0.5 + this.host.random() / 2);
    this.phase = 'waiting';
    this.timer = this.host.clock.setTimeout(() => {
      this.timer = null;
      if (this.phase !== 'waiting') return;
      this.phase = 'idle';
      this.start();
    }, delay);
    this.host.report({ type, code, retryInMs: Math.round(delay) });
  }

  private closePeer(): void {
    const peer = this.peer;
    this.peer = null;
    this.remoteQueue = [];
    if (!peer) return;
    peer.onCandidate = null;
    try {
      peer.close();
    } catch {
      // already closed
    }
  }

  private clearTimer(): void {
    if (this.timer !== null) this.host.clock.clearTimeout(this.timer);
    this.timer = null;
  }
}

function toCandidate(message: CandidateSignal): ClientCandidate {
  return { candidate: message.candidate ?? '', sdpMid: message.sdpMid, sdpMLineIndex: message.sdpMLineIndex };
}

function usable(t: UpgradeTransport): boolean {
  try {
    return t.available();
  } catch {
    return false;
  }
}
