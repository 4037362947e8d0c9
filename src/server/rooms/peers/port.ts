// What a peer-assisted room needs of a member's port besides MemberPort: relayed frames, the peer set-up, refusals and signaling.
import type { MemberPort, RoomHost } from '../host.js';
import type { RoomPeers } from './room-peers.js';

/** A member port that also carries peer traffic (sessions make every port this way). */
export interface PeerPort extends MemberPort {
  /** A peer frame from member `from`, relayed on the channel it came on. */
  peerFrame(from: string, frame: Uint8Array, reliable: boolean): void;
  /** The member's peer set-up (JSON text), sent on join and whenever its direct set changes. */
  peerSetup(setup: string): void;
  /** A frame this member sent to `peer` was refused with `code`. */
  peerRefused(peer: string, code: string, reason: string): void;
  /** A signaling message (checked JSON text) from member `from`. */
  peerSignal(from: string, payload: string): void;
}

/** The port as a PeerPort, or null when whoever made it cannot carry peer traffic. */
export function asPeerPort(port: MemberPort | undefined): PeerPort | null {
  return port && typeof (port as Partial<PeerPort>).peerFrame === 'function' ? (port as PeerPort) : null;
}

/** The peer relay of a running room, or null when the room has peers off (or runs where it cannot be reached). */
export function peersOf(room: RoomHost): RoomPeers | null {
  return (room as { peers?: RoomPeers | null }).peers ?? null;
}
