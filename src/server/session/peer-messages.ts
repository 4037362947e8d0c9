// Peer traffic of a server session: PEER frames from the client to its room's relay and SIGNAL messages to other members (the port carries peer traffic back: session-port.ts).
import type { ErrorCode } from '../../codec/errors.js';
import { type PeerMessage, PeerPart } from '../../codec/frames.js';
import type { SignalMessage } from '../../signaling/messages.js';
import type { Metrics } from '../metrics.js';
import type { MemberPort } from '../rooms/host.js';
import { type PeerPort, peersOf } from '../rooms/peers/port.js';
import type { Membership } from './session-context.js';

/** What peer traffic needs of a server session. */
export interface PeerSessionView {
  readonly memberships: ReadonlyMap<number, Membership>;
  readonly metrics: Metrics;
  sendSignal(peer: string, message: SignalMessage): void;
}

/**
 * A PEER message from the client. Only frames are accepted from a client (anything else is
 * `frame_malformed`, returned for the session to end with); a frame for a room without peers is
 * refused with `peers_disabled`. Returns null when handled.
 */
export function receivePeer(
  session: PeerSessionView,
  message: PeerMessage,
  reliable: boolean,
  port: (handle: number) => MemberPort,
): ErrorCode | null {
  if (message.part !== PeerPart.Frame) return 'frame_malformed';
  const m = session.memberships.get(message.handle);
  if (!m) {
    session.metrics.inc('messages_unknown_handle');
    return null;
  }
  const peers = peersOf(m.room);
  if (!peers) {
    session.metrics.error('peers_disabled');
    const refused = port(message.handle) as Partial<PeerPort>;
    refused.peerRefused?.(message.peer, 'peers_disabled', 'this room has no peer traffic');
    return null;
  }
  peers.relay(m.clientId, message.peer, message.frame, reliable);
  return null;
}

/**
 * A SIGNAL from the client to another member (`peer` is its client id in a peer-assisted room both
 * share). Anything else is refused with a close signal carrying the code (`signal_peer_unknown` for a
 * peer that shares no such room with the sender), counted in `errors{code}`.
 */
export function routePeerSignal(session: PeerSessionView, peer: string, payload: string): void {
  let code: ErrorCode = 'signal_peer_unknown';
  for (const m of session.memberships.values()) {
    const peers = peersOf(m.room);
    if (!peers?.has(m.clientId) || !peers.has(peer)) continue;
    const refused = peers.signal(m.clientId, peer, payload);
    if (refused === null) return;
    code = refused;
    break;
  }
  session.metrics.error(code);
  session.sendSignal(peer, { kind: 'close', code, reason: 'signal refused' });
}
