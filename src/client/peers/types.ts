// Public types of a room's peers (client side): the events, the send options, what `list()` reports, and the protocol shape the peers need.
import type { NetloomError } from '../../codec/errors.js';
import type { PeerPath } from './pair.js';

/** Events of `room.peers` besides the peer messages themselves. */
export type PeerLifecycleEvents = {
  /** A member joined the room (every member already there is reported once peers are set up). */
  'peer-join': { id: string; userId: string };
  /** A member left the room; its pair is gone. */
  'peer-leave': { id: string };
  /** The path to a peer changed: `direct` once a datachannel link carries the pair, `relay` when it fell back. */
  'peer-link': { id: string; path: PeerPath; previous: PeerPath };
  /**
   * Something of the traffic with a peer was refused: by the server's relay (`peer_type_refused`,
   * `peer_rate_exceeded`, `peer_relay_cap`, `peers_disabled`, ...), or locally (a message that does not
   * decode, a type the room does not allow). `id` is the peer concerned.
   */
  'peer-error': { id: string; error: NetloomError };
};

/** Names the peer lifecycle events take; a protocol's peer messages may not use them. */
export const PEER_EVENTS = ['peer-join', 'peer-leave', 'peer-link', 'peer-error'] as const;

export interface PeerSendOptions {
  /** Reliable (default): exactly once, in order, across any change of path. Unreliable: may drop. */
  reliable?: boolean;
}

/** One peer, as `room.peers.list()` reports it. */
export interface PeerInfo {
  id: string;
  /** The authenticated user id, '' when anonymous. */
  userId: string;
  /** How frames travel to it now. */
  path: PeerPath;
  /** Smoothed round-trip time over the direct link in ms (0 on the relay or until measured). */
  rtt: number;
}

/** What the peers need of a protocol at run time: its `peer` section (any `defineProtocol` result fits). */
export interface AnyPeerProtocol {
  readonly peer?: {
    encode(name: string, value: unknown): { op: number; payload: Uint8Array };
    decode(op: number, payload: Uint8Array): { name: string; value: unknown };
    has(name: string): boolean;
    opOf(name: string): number;
  };
}
