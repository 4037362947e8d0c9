// Options of peer-assisted rooms (`defineRoom({ peers })`): the mesh, the relay policy and the timings handed to clients, with defaults.
import { NetloomError } from '../../../codec/errors.js';
import type { IceServer } from '../../../signaling/messages.js';

/**
 * `defineRoom({ peers })`: members talk to each other over browser-to-browser datachannels, with the
 * server as a relay while a direct link is not up (or after it failed). Every field has a default.
 */
export interface PeerRoomOptions {
  /** Turn peer traffic on (default true once `peers` is given). */
  enabled?: boolean;
  /** Direct links per member, at most (default 8; 0 keeps every pair on the relay). */
  maxMesh?: number;
  /** Peer message names (of the protocol's `peer` section) members may exchange (default: all of them). */
  types?: readonly string[];
  /**
   * Whether the server reads relayed payloads (default true): it checks each one against the peer schema
   * and refuses malformed ones. false: payloads pass as opaque bytes, only their size and type are checked.
   */
  inspect?: boolean;
  /** Relayed data messages a member may send each other member per second (default 60; 0 = no limit). */
  ratePerSecond?: number;
  /** Burst allowed above `ratePerSecond` (default 2 × ratePerSecond). */
  burst?: number;
  /** Data bytes the server relays for the room over its lifetime, at most (default 1 GiB); past it: `peer_relay_cap`. */
  maxRelayBytes?: number;
  /**
   * Largest peer message payload, in bytes (default 16,000). Keep it at least 64 bytes below the session's
   * `maxMessageBytes` (16 KiB by default), which bounds the whole relayed frame.
   */
  maxPayloadBytes?: number;
  /** Signaling messages each member may send per second (default 20, bursts of 200); more: `signal_rate_exceeded`. */
  signalsPerSecond?: number;
  /**
   * STUN/TURN servers for the direct links (default: the ones the join ticket hands out, which are the
   * server's `webrtc.iceServers`: none unless configured, so host candidates only).
   */
  iceServers?: IceServer[];
  /** Ping interval on a direct link (default 250 ms): a link that stays silent is taken for dead. */
  pingIntervalMs?: number;
  /** A direct link with no frame for this long falls back to the relay (default 700 ms: with the check every quarter of it, under 1 s). */
  idleTimeoutMs?: number;
  /** Time for a direct link to open after the offer (default 10,000 ms). */
  connectTimeoutMs?: number;
}

/** The options with every default filled in. */
export interface PeerPolicy {
  maxMesh: number;
  /** null: every message of the peer section. */
  types: readonly string[] | null;
  inspect: boolean;
  ratePerSecond: number;
  burst: number;
  maxRelayBytes: number;
  maxPayloadBytes: number;
  signalsPerSecond: number;
  iceServers: IceServer[] | null;
  pingIntervalMs: number;
  idleTimeoutMs: number;
  connectTimeoutMs: number;
}

export const PEER_DEFAULTS: Omit<PeerPolicy, 'burst'> = {
  maxMesh: 8,
  types: null,
  inspect: true,
  ratePerSecond: 60,
  maxRelayBytes: 1 << 30,
  maxPayloadBytes: 16_000,
  signalsPerSecond: 20,
  iceServers: null,
  pingIntervalMs: 250,
  idleTimeoutMs: 700,
  connectTimeoutMs: 10_000,
};

/** The policy of a room's `peers` option, or null when peers are off. Throws `protocol_invalid` for bad options. */
export function resolvePeerPolicy(options: PeerRoomOptions | undefined): PeerPolicy | null {
  if (options === undefined || options.enabled === false) return null;
  const num = (key: keyof PeerRoomOptions, value: number | undefined, fallback: number): number => {
    if (value === undefined) return fallback;
    if (typeof value !== 'number' || Number.isNaN(value) || value < 0)
      throw new NetloomError('protocol_invalid', `peers.${key} must be a number >= 0`);
    return value;
  };
  const rate = num('ratePerSecond', options.ratePerSecond, PEER_DEFAULTS.ratePerSecond);
  if (options.types !== undefined && !Array.isArray(options.types))
    throw new NetloomError('protocol_invalid', 'peers.types must be a list of peer message names');
  return {
    maxMesh: Math.floor(num('maxMesh', options.maxMesh, PEER_DEFAULTS.maxMesh)),
    types: options.types ?? null,
    inspect: options.inspect ?? PEER_DEFAULTS.inspect,
    ratePerSecond: rate,
    burst: num('burst', options.burst, rate * 2),
    maxRelayBytes: num('maxRelayBytes', options.maxRelayBytes, PEER_DEFAULTS.maxRelayBytes),
    maxPayloadBytes: num('maxPayloadBytes', options.maxPayloadBytes, PEER_DEFAULTS.maxPayloadBytes),
    signalsPerSecond: num('signalsPerSecond', options.signalsPerSecond, PEER_DEFAULTS.signalsPerSecond),
    iceServers: options.iceServers ?? null,
    pingIntervalMs: num('pingIntervalMs', options.pingIntervalMs, PEER_DEFAULTS.pingIntervalMs),
    idleTimeoutMs: num('idleTimeoutMs', options.idleTimeoutMs, PEER_DEFAULTS.idleTimeoutMs),
    connectTimeoutMs: num('connectTimeoutMs', options.connectTimeoutMs, PEER_DEFAULTS.connectTimeoutMs),
  };
}
