// netloom/server: authoritative rooms, the control plane and the Fastify plugin.
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { netloomFastifyOptions } from './http/fastify-options.js';
import type { NetloomOptions } from './options.js';
import { netloom } from './plugin.js';

export interface CreateServerOptions extends NetloomOptions {
  /** Fastify's logger option (default false). */
  logger?: FastifyServerOptions['logger'];
  /** Other Fastify options. */
  fastify?: Omit<FastifyServerOptions, 'logger'>;
}

/** A Fastify app with netloom registered and ready to `listen`; add your own routes before listening. */
export async function createServer(options: CreateServerOptions): Promise<FastifyInstance> {
  const { logger, fastify, ...netloomOptions } = options;
  const app = Fastify({ logger: logger ?? false, ...netloomFastifyOptions(), ...fastify });
  await app.register(netloom, netloomOptions);
  return app;
}

export { type ErrorCode, NetloomError } from '../codec/errors.js';
export { type Clock, ManualClock, systemClock } from '../shared/clock.js';
export type { MatchQuery, MatchTicketRequest, NumericRange } from '../shared/matchmaking.js';
export type { ClusterOptions } from './cluster/node.js';
export type { ClusterBackend, HeartbeatState, NodeRecord, ReapedNode, RunningRoom } from './cluster/types.js';
export type { RoomMetadataLimits } from './control/room-meta.js';
export type {
  CreateRoomOptions,
  JoinOrCreateOptions,
  RedeemOptions,
  ReserveOptions,
  SeatHolder,
  SeatReservation,
} from './control.js';
export type {
  CreateResult,
  Driver,
  NewRoom,
  RedeemResult,
  ReserveResult,
  RoomFilter,
  RoomRecord,
  RoomTags,
} from './drivers/driver.js';
export { memoryDriver } from './drivers/memory.js';
export { type RedisDriverOptions, redisDriver } from './drivers/redis.js';
export type { NetloomExtensionOptions, NetloomExtensionsApi } from './extensions.js';
export { netloomFastifyOptions } from './http/fastify-options.js';
export type { HealthStatus, OpsOptions } from './http/ops.js';
export type { Authenticate, Identity, Json } from './identity.js';
export { checkIdentity, MAX_IDENTITY_BYTES } from './identity.js';
export type {
  LifecycleHook,
  LifecycleHooks,
  LifecycleHooksApi,
  ShutdownOptions,
  ShutdownReport,
} from './lifecycle.js';
export type {
  MatchInfo,
  MatchmakerApi,
  MatchmakerOptions,
  MatchmakerStats,
  SubmitOptions,
  TicketAccess,
  TicketLimits,
  TicketStatus,
  WaitOptions,
  Widening,
  WideningRule,
} from './matchmaker/index.js';
export { DEFAULT_TICKET_LIMITS } from './matchmaker/index.js';
export type { Logger } from './metrics.js';
export type {
  MessageEvent,
  MessageHook,
  MessageHooksApi,
  SendEvent,
  SendHook,
} from './middleware.js';
export type { AnyRoomDefinition, JoinTicket, NetloomOptions, NetloomServerApi } from './options.js';
export type { NetloomPlugin, NetloomPluginFunction, NetloomPluginObject } from './plugins.js';
export { type MetricFamily, PROMETHEUS_CONTENT_TYPE, renderPrometheus } from './prometheus.js';
export {
  type NoticeMessages,
  type NoticeProtocol,
  type PushApi,
  type SessionFilter,
  type SessionInfo,
  type SessionSelector,
  typedPush,
} from './push.js';
export type {
  AuthResult,
  BroadcastOptions,
  LeaveReason,
  MessageHandlers,
  MessageMeta,
  Room,
  RoomClient,
  RoomDefinition,
  SendOptions,
} from './rooms/define.js';
export { defineRoom } from './rooms/define.js';
export type { MemberPort, RoomHost, RoomRunner, RoomSpec } from './rooms/host.js';
export { PEER_DEFAULTS, type PeerRoomOptions } from './rooms/peers/options.js';
export type { RoomMember } from './rooms/presence.js';
export {
  type HostMode,
  RELAYED_HOST_KEY,
  type RelayedHostRecord,
  type RelayedProtocol,
  type RelayedRoomData,
  type RelayedRoomOptions,
  relayedProtocol,
  relayedRoom,
} from './rooms/relayed.js';
export { inProcessRunner } from './rooms/room.js';
export {
  DEFAULT_ROOM_STATE_LIMITS,
  type RoomState,
  type RoomStateLimits,
} from './rooms/room-state.js';
export { DEFAULT_ENDED_ROOMS, type EndedRoomsOptions } from './rooms/tombstones.js';
export type { RpcOptions } from './rpc/dispatch.js';
export type { EndpointContext, EndpointDefinition } from './rpc/registry.js';
export {
  authenticated,
  hasData,
  hasRole,
  type Requirement,
  type RpcCaller,
  requirement,
  viaSession,
} from './rpc/requirements.js';
export { type ClientLimits, DEFAULT_CLIENT_LIMITS } from './session/limits.js';
export {
  type DataKey,
  type DataValue,
  type SessionDataApi,
  type SessionDataChange,
  type SessionDataKey,
  type SessionDataTypes,
  type SessionDataView,
  type SessionRef,
  toJson,
} from './session-data.js';
export {
  createServerPeer,
  openServerPeerCount,
  type ServerPeer,
  type WebRtcServerOptions,
} from './transports/webrtc/peer.js';
export type { WebRtcOptions, WebRtcTicket } from './transports/webrtc/service.js';
export {
  DEFAULT_UPGRADE_LIMITS,
  type UpgradeLimits,
  type UpgradeServerPeer,
} from './transports/webrtc/upgrade.js';
export {
  CertificateManager,
  type CertificateMaterial,
  generateCertificate,
  loadCertificate,
} from './transports/webtransport/certificates.js';
export { connectQuic } from './transports/webtransport/client.js';
export type { ConnectPolicy, ConnectRequest } from './transports/webtransport/connect-request.js';
export { QuicEndpoint } from './transports/webtransport/endpoint.js';
export {
  H3Connection,
  type H3ConnectionOptions,
  type H3Stats,
} from './transports/webtransport/h3-connection.js';
export {
  acceptWebTransportLink,
  type WebTransportLinkOptions,
  WebTransportServerLink,
} from './transports/webtransport/link.js';
export {
  NodeWebTransport,
  type NodeWebTransportOptions,
  nodeWebTransportClass,
} from './transports/webtransport/node-client.js';
export type { QuicConnection } from './transports/webtransport/quic.js';
export {
  type WebTransportServerOptions,
  WebTransportService,
  type WebTransportTicket,
} from './transports/webtransport/service.js';
export type { WtCloseInfo, WtSession, WtStream } from './transports/webtransport/wt-session.js';
export { netloom };
