// The server side of a transport upgrade: takes a session's offer, answers it with a server peer, adds the peer's link to the session and watches it.
import { type ErrorCode, NetloomError } from '../../../codec/errors.js';
import type { Link } from '../../../link/link.js';
import type { SessionLinks } from '../../../session/links.js';
import type { Clock, TimerHandle } from '../../../shared/clock.js';
import { SERVER_PEER } from '../../../signaling/hub.js';
import type { SignalMessage } from '../../../signaling/messages.js';
import {
  DEFAULT_SIGNAL_STATE_LIMITS,
  SignalState,
  type SignalStateLimits,
} from '../../../signaling/state.js';
import type { Logger, Metrics } from '../../metrics.js';

/** A remote ICE candidate as handed to a peer (the shape of RTCIceCandidateInit). */
export interface CandidateInit {
  candidate: string;
  sdpMid: string | null;
  sdpMLineIndex: number | null;
}

/** What the upgrade needs of a server-side peer connection (`createServerPeer` returns one). */
export interface UpgradeServerPeer {
  /** Takes the client's offer; resolves with the answer (candidates included: the server does not trickle). */
  answer(offerSdp: string): Promise<string>;
  /** Adds a remote candidate (queued by the peer until the remote description is set). */
  addCandidate(candidate: CandidateInit): unknown;
  /** The link, once both datachannels are open; rejects when the connection fails. */
  readonly link: Promise<Link>;
  /** Closes the peer connection (idempotent). */
  close(): void;
}

/** The part of a server session an upgrade uses. */
export interface UpgradeSession {
  readonly id: string;
  readonly links: SessionLinks;
  sendSignal(peer: string, message: SignalMessage): void;
}

/** Time and signaling limits of server-side upgrades; each has a default. */
export interface UpgradeLimits extends SignalStateLimits {
  /** From the offer to an open link (default 10,000 ms); later: `upgrade_timeout`, the peer closed. */
  connectTimeoutMs: number;
  /** From the open link to the client's SWITCH on it (default 5,000 ms); later: `upgrade_timeout`, the peer closed. */
  switchTimeoutMs: number;
}

export const DEFAULT_UPGRADE_LIMITS: UpgradeLimits = {
  ...DEFAULT_SIGNAL_STATE_LIMITS,
  connectTimeoutMs: 10_000,
  switchTimeoutMs: 5_000,
};

export interface UpgradeDeps {
  /** Makes the server peer for one offer of `session`. */
  createPeer(session: UpgradeSession): UpgradeServerPeer;
  clock: Clock;
  metrics: Metrics;
  log: Logger;
  limits?: Partial<UpgradeLimits>;
}

interface SessionUpgrade {
  readonly session: UpgradeSession;
  readonly state: SignalState;
  peer: UpgradeServerPeer | null;
  link: Link | null;
  timer: TimerHandle | null;
}

/**
 * Server-side upgrades of every session of a node, one peer at most per session. Registered with
 * the signaling hub as the route of the server peer (`SERVER_PEER`): `handle` checks each message
 * against the session's SignalState and refuses what is out of order (`signal_unexpected`), over a
 * limit (`candidate_limit`, `signal_rate_exceeded`) or fails (`upgrade_failed`, `upgrade_timeout`).
 * A refusal closes the session's peer unless its upgrade is already active. Every peer made is closed
 * again (`openPeers` returns to zero): on failure, timeout, restart, close, link loss and session end.
 */
export class WebRtcUpgrades {
  private readonly sessions = new Map<string, SessionUpgrade>();
  private readonly limits: UpgradeLimits;
  private peers = 0;

  constructor(private readonly deps: UpgradeDeps) {
    this.limits = { ...DEFAULT_UPGRADE_LIMITS, ...deps.limits };
  }

  /** Peer connections made and not yet closed. */
  get openPeers(): number {
    return this.peers;
  }

  /** The hub route: one checked message from `session`. Returns a code to refuse it with. */
  handle(session: UpgradeSession, message: SignalMessage): ErrorCode | null {
    let up = this.sessions.get(session.id);
    if (!up) {
      up = {
        session,
        state: new SignalState(this.limits, () => this.deps.clock.now()),
        peer: null,
        link: null,
        timer: null,
      };
      this.sessions.set(session.id, up);
    }
    const code = up.state.check(message);
    if (code) {
      if (up.state.phase !== 'active') this.teardown(up);
      return code;
    }
    switch (message.kind) {
      case 'offer':
        this.offer(up, message.sdp);
        return null;
      case 'candidate':
        if (message.candidate !== null && up.peer) {
          const { candidate, sdpMid, sdpMLineIndex } = message;
          const peer = up.peer;
          Promise.resolve()
            .then(() => peer.addCandidate({ candidate, sdpMid, sdpMLineIndex }))
            .catch((err: unknown) => {
              if (up.peer === peer) this.failWith(up, err, 'signal_invalid', 'candidate refused by the peer');
            });
        }
        return null;
      default:
        // restart or close: the client tore its side down; a new offer may follow.
        this.teardown(up);
        return null;
    }
  }

  /** The session ended: close its peer and forget it. */
  ended(session: { id: string }): void {
    const up = this.sessions.get(session.id);
    if (!up) return;
    this.sessions.delete(session.id);
    this.teardown(up);
  }

  /** Closes every peer (server shutdown). */
  close(): void {
    for (const up of [...this.sessions.values()]) this.ended(up.session);
  }

  private offer(up: SessionUpgrade, sdp: string): void {
    let peer: UpgradeServerPeer;
    try {
      peer = this.deps.createPeer(up.session);
    } catch (err) {
      this.deps.log.warn({ err, sessionId: up.session.id }, 'cannot create a server peer');
      this.fail(up, 'upgrade_failed', 'cannot create a peer');
      return;
    }
    this.peers++;
    up.peer = peer;
    this.deps.metrics.inc('upgrades_started');
    this.startTimer(up, this.limits.connectTimeoutMs, 'no link in time');
    peer.link.then(
      (link) => this.linked(up, peer, link),
      (err: unknown) => {
        if (up.peer === peer) this.failWith(up, err, 'upgrade_failed', 'peer connection failed');
      },
    );
    peer.answer(sdp).then(
      (answer) => {
        if (up.peer !== peer) return;
        up.state.advance('connecting');
        up.session.sendSignal(SERVER_PEER, { kind: 'answer', sdp: answer });
      },
      (err: unknown) => {
        if (up.peer === peer) this.failWith(up, err, 'upgrade_failed', 'cannot answer the offer');
      },
    );
  }

  private linked(up: SessionUpgrade, peer: UpgradeServerPeer, link: Link): void {
    if (up.peer !== peer) {
      link.close('normal', 'upgrade abandoned');
      return;
    }
    up.link = link;
    const added = up.session.links.addUpgraded(link, {
      switched: () => {
        if (up.link !== link) return;
        this.clearTimer(up);
        up.state.advance('active');
        this.deps.metrics.inc(`upgrades{${link.transport}}`);
      },
      closed: (info) => {
        if (up.link !== link) return;
        up.link = null;
        if (!info.local) this.deps.metrics.inc('upgraded_links_lost');
        this.teardown(up);
      },
    });
    if (!added) {
      up.link = null;
      this.teardown(up);
      return;
    }
    up.state.advance('linked');
    this.startTimer(up, this.limits.switchTimeoutMs, 'no SWITCH on the new link');
  }

  private startTimer(up: SessionUpgrade, ms: number, reason: string): void {
    this.clearTimer(up);
    up.timer = this.deps.clock.setTimeout(() => {
      up.timer = null;
      this.fail(up, 'upgrade_timeout', reason);
    }, ms);
  }

  private clearTimer(up: SessionUpgrade): void {
    if (up.timer !== null) this.deps.clock.clearTimeout(up.timer);
    up.timer = null;
  }

  /** Fails with the code of a NetloomError from the peer (e.g. `sdp_invalid`), else `fallback`. */
  private failWith(up: SessionUpgrade, err: unknown, fallback: ErrorCode, reason: string): void {
    if (err instanceof NetloomError) this.fail(up, err.code, err.message);
    else this.fail(up, fallback, err instanceof Error ? `${reason}: ${err.message}` : reason);
  }

  /** Counts `code`, closes the peer and tells the client. */
  private fail(up: SessionUpgrade, code: ErrorCode, reason: string): void {
    this.deps.metrics.error(code);
    this.teardown(up);
    up.session.sendSignal(SERVER_PEER, { kind: 'close', code, reason: reason.slice(0, 200) });
  }

  /** Closes the peer and its link (the session falls back first if it was primary); back to idle. */
  private teardown(up: SessionUpgrade): void {
    this.clearTimer(up);
    up.state.advance('idle');
    const peer = up.peer;
    const link = up.link;
    up.peer = null;
    up.link = null;
    if (link && up.session.links.upgradedLink === link)
      up.session.links.closeUpgraded('normal', 'upgrade closed');
    if (peer) {
      this.peers--;
      try {
        peer.close();
      } catch (err) {
        this.deps.log.warn({ err }, 'closing a server peer threw');
      }
    }
  }
}
