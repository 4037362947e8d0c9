// netloom/client: the browser (and Node) client — Client, Room, and the shared error type.

export { type ErrorCode, isErrorCode, NetloomError } from '../codec/errors.js';
export { type ConditionedLink, type ConditionerOptions, conditionLink } from '../link/conditioner.js';
export type { Link, LinkStats, TransportName } from '../link/link.js';
export type { MatchQuery, MatchTicketRequest, NumericRange } from '../shared/matchmaking.js';
export {
  Client,
  type ClientEvents,
  type ClientOptions,
  type ClientWebRtcOptions,
  type ClientWebTransportOptions,
  type CreateOptions,
  type JoinOptions,
  type JoinTicket,
} from './client.js';
export type { ReconnectOptions, TransportChange } from './connection.js';
export {
  Match,
  type MatchData,
  type MatchEvents,
  type MatchHost,
  type MatchOptions,
  type MatchSendOptions,
  type RelayedProtocol,
  relayedProtocol,
} from './match.js';
export type { MatchmakeOptions, MatchResult } from './matchmaker.js';
export type { PeerPath } from './peers/pair.js';
export type { RoomPeers } from './peers/peers.js';
export {
  type AnyPeerProtocol,
  PEER_EVENTS,
  type PeerInfo,
  type PeerLifecycleEvents,
  type PeerSendOptions,
} from './peers/types.js';
export { type AnyNotices, CLIENT_EVENTS, type PushEvents } from './push.js';
export {
  ROOM_EVENTS,
  Room,
  type RoomEvents,
  type RoomLifecycleEvents,
  type RoomSendOptions,
  type RoomStats,
} from './room.js';
export type {
  PresenceEvent,
  RoomMember,
  RoomStateView,
  StateChangeEvent,
} from './room-mirror.js';
export type { JsonValue, RoomListing } from './rooms-api.js';
export type { CallOptions } from './rpc.js';
export {
  type ClientPeer,
  type ClientPeerOptions,
  createClientPeer,
  type RTCPeerConnectionConstructorLike,
  webRtcAvailable,
} from './transports/webrtc.js';
export type { WebSocketConstructor } from './transports/websocket.js';
export {
  type ConnectWebTransportOptions,
  connectWebTransport,
  type WebTransportConstructorLike,
  type WebTransportLike,
  webTransportAvailable,
} from './transports/webtransport.js';
export type { ClientCandidate, UpgradeEvent, UpgradeOptions, UpgradePeer } from './upgrade.js';
