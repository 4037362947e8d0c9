// Types of the client's server connection: room bindings, reconnection and upgrade options, transport changes.
import type { NetloomError } from '../codec/errors.js';
import type { Message, PeerMessage, PresenceMember, StateChange } from '../codec/frames.js';
import type { Link, TransportName } from '../link/link.js';
import type { SessionCoreOptions } from '../session/core.js';
import type { Clock } from '../shared/clock.js';
import type { IceServer } from '../signaling/messages.js';
import type { UpgradeOptions, UpgradeTransport } from './upgrade.js';

/** A session-level message (not bound to a room handle): RPC responses, notices, pushes. */
export type SessionMessage = Exclude<Message, { handle: number }>;

/** What a connection tells one room membership. */
export interface RoomBinding {
  /** The room's id once joined. */
  roomId?(): string | undefined;
  joined(info: { roomId: string; roomType: string; clientId: string; protocolHash: string }): void;
  joinFailed(error: NetloomError): void;
  message(op: number, payload: Uint8Array, reliable: boolean): void;
  left(code: string, reason: string): void;
  reconnecting(info: { attempt: number; code: string }): void;
  reconnected(): void;
  /** The transport carrying the session changed. */
  transport?(change: TransportChange): void;
  /** Members joined and left (the first one after JOIN lists everyone). */
  presence(joins: PresenceMember[], leaves: string[]): void;
  /** Room key-value state changed; `reset` replaces the whole state. */
  state(reset: boolean, changes: StateChange[]): void;
  /** Peer traffic of a peer-assisted room: a relayed frame, the peer set-up or a refusal. */
  peer?(message: PeerMessage, reliable: boolean): void;
}

export interface ReconnectOptions {
  /** First retry delay (default 250 ms); doubles per attempt, with jitter. */
  baseDelayMs: number;
  /** Longest delay between attempts (default 4,000 ms). */
  maxDelayMs: number;
  /** Give up after this long without a link (default 30,000 ms); the server's window may end it sooner. */
  windowMs: number;
}

/** A switch of transport: the one in use now and the one before. */
export interface TransportChange {
  transport: TransportName;
  previous: TransportName | null;
}

export interface ConnectionOptions {
  connect: () => Promise<Link>;
  /** Upgrade to a better transport once open (absent: stay on the link `connect` makes). */
  upgrade?: {
    transport: UpgradeTransport | UpgradeTransport[];
    iceServers: IceServer[];
    options?: Partial<UpgradeOptions>;
  };
  clock: Clock;
  reconnect: ReconnectOptions;
  handshakeTimeoutMs: number;
  core: Partial<Omit<SessionCoreOptions, 'clock'>>;
  random: () => number;
  /**
   * Asks the control plane whether a room was lost with its node (cluster): while resuming fails,
   * rooms it says are lost end with code `room_lost` instead of waiting out the window.
   */
  roomLost?: (roomId: string) => Promise<boolean>;
  /**
   * For the direct links of peer-assisted rooms: the RTCPeerConnection constructor (default the page's)
   * and the ICE servers the join ticket handed out (default none: host candidates only).
   */
  peers?: { RTCPeerConnection?: unknown; iceServers: IceServer[] };
}
