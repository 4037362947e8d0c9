// Wires WebRTC upgrades into a server: the signaling hub, the upgrades of every session, their options, and what join tickets announce.
import type { Clock } from '../../../shared/clock.js';
import { SERVER_PEER, SignalHub } from '../../../signaling/hub.js';
import type { Logger, Metrics } from '../../metrics.js';
import type { ServerSession, SessionSignaling } from '../../session/server-session.js';
import type { IceServer, WebRtcServerOptions } from './options.js';
import { resolveWebRtcServerOptions } from './options.js';
import { createServerPeer } from './peer.js';
import {
  DEFAULT_UPGRADE_LIMITS,
  type UpgradeServerPeer,
  type UpgradeSession,
  WebRtcUpgrades,
} from './upgrade.js';

/** `NetloomOptions.webrtc`: the server's WebRTC peers and the upgrade of sessions to them. */
export interface WebRtcOptions extends WebRtcServerOptions {
  /** Offer WebRTC to clients (default true). false: tickets do not list it and offers are refused. */
  enabled?: boolean;
  /** Time from the open datachannels to the client's SWITCH on them (default 5,000 ms); later: `upgrade_timeout`. */
  switchTimeoutMs?: number;
  /** Offers accepted per session in any 60 s (default 6); more: `signal_rate_exceeded`. */
  offersPerMinute?: number;
  /** Makes the server peer for an offer instead of werift (tests, or another WebRTC stack). */
  createPeer?: (session: UpgradeSession) => UpgradeServerPeer;
}

/** What a join ticket says about WebRTC: it is offered, and with which ICE servers. */
export interface WebRtcTicket {
  iceServers: IceServer[];
}

export interface UpgradeService {
  /** Where sessions send SIGNAL messages. */
  signaling: SessionSignaling;
  upgrades: WebRtcUpgrades;
  hub: SignalHub<ServerSession>;
  /** The `webrtc` entry of join tickets. */
  ticket: WebRtcTicket;
  close(): void;
}

/** Builds the upgrade service, or returns null when WebRTC is disabled. Throws `request_invalid` for bad options. */
export function createUpgradeService(
  options: WebRtcOptions | undefined,
  deps: { clock: Clock; log: Logger; metrics: Metrics },
): UpgradeService | null {
  const { enabled = true, switchTimeoutMs, offersPerMinute, createPeer, ...peerOptions } = options ?? {};
  if (!enabled) return null;
  const resolved = resolveWebRtcServerOptions(peerOptions);
  const { metrics, log } = deps;
  const upgrades = new WebRtcUpgrades({
    clock: deps.clock,
    metrics,
    log,
    createPeer: createPeer ?? (() => createServerPeer(peerOptions)),
    limits: {
      maxCandidates: resolved.maxCandidates,
      connectTimeoutMs: resolved.connectTimeoutMs,
      switchTimeoutMs: switchTimeoutMs ?? DEFAULT_UPGRADE_LIMITS.switchTimeoutMs,
      offersPerMinute: offersPerMinute ?? DEFAULT_UPGRADE_LIMITS.offersPerMinute,
    },
  });
  const hub = new SignalHub<ServerSession>({
    limits: { maxSdpBytes: resolved.maxSdpBytes },
    onRefused: (code, peer, reason) => {
      metrics.error(code);
      log.debug({ code, peer, reason }, 'signal refused');
    },
  });
  hub.register(SERVER_PEER, (session, message) => upgrades.handle(session, message));
  metrics.describe('webrtc_peers', { help: 'Server WebRTC peer connections open (negotiating or linked).' });
  metrics.addSource('gauge', () => ({ webrtc_peers: upgrades.openPeers }));
  return {
    signaling: {
      message: (session, peer, payload) => {
        hub.route(session, peer, payload);
      },
      reset: (session) => upgrades.ended(session),
    },
    upgrades,
    hub,
    ticket: { iceServers: resolved.iceServers },
    close: () => upgrades.close(),
  };
}
