// The matchmaker's public surface, and its wiring to a server's rooms and seats.
import type { Clock } from '../../shared/clock.js';
import type { Logger, Metrics } from '../metrics.js';
import type { NetloomOptions, NetloomServerApi } from '../options.js';
import { ClusterMatchmaker } from './cluster.js';
import { Matchmaker } from './service.js';
import type { ClusterMatchmakerConfig, MatchmakerDeps, MatchmakerService } from './types.js';

export { ClusterMatchmaker } from './cluster.js';

export type { PassOptions, PoolEntry, Widening, WideningRule } from './match.js';
export { compatible, findMatches, TicketPool, widenBy } from './match.js';
export { Matchmaker } from './service.js';
export type { NormalizedTicket, TicketLimits } from './ticket.js';
export { DEFAULT_TICKET_LIMITS, validateTicket } from './ticket.js';
export type {
  ClusterMatchmakerConfig,
  MatchInfo,
  MatchmakerApi,
  MatchmakerBackend,
  MatchmakerDeps,
  MatchmakerOptions,
  MatchmakerService,
  MatchmakerStats,
  SubmitOptions,
  TicketAccess,
  TicketStatus,
  WaitOptions,
} from './types.js';

/** Default seats of a room type without `maxClients` (as the control plane counts them). */
const DEFAULT_MAX_CLIENTS = 16;

/**
 * The server's matchmaker: matches become private rooms made with `api.rooms.create`, and each player's
 * seat comes from `api.seats.reserve` (carrying the player's identity when known). With `cluster`, tickets
 * live in the cluster's Redis and any node serves any ticket (see ClusterMatchmaker); without it, in memory.
 */
export function createMatchmaker(parts: {
  rooms: NetloomOptions['rooms'];
  options?: NetloomOptions['matchmaker'];
  clock: Clock;
  log: Logger;
  metrics: Metrics;
  /** The server API (read when a match forms, so it may be built after the matchmaker). */
  api: () => NetloomServerApi;
  /** Share tickets across the nodes of a cluster: the driver's `cluster` backend and this node's id. */
  cluster?: ClusterMatchmakerConfig;
}): MatchmakerService {
  const { rooms } = parts;
  const deps: MatchmakerDeps = {
    clock: parts.clock,
    log: parts.log,
    metrics: parts.metrics,
    capacity: (type) =>
      Object.hasOwn(rooms, type) ? (rooms[type].maxClients ?? DEFAULT_MAX_CLIENTS) : undefined,
    createRoom: (type, options) => parts.api().rooms.create(type, { options, private: true }),
    reserveSeat: (roomId, identity, joinData) =>
      parts.api().seats.reserve(roomId, { ...(identity ? { identity } : {}), joinData }),
  };
  return parts.cluster
    ? new ClusterMatchmaker(deps, parts.options ?? {}, parts.cluster)
    : new Matchmaker(deps, parts.options);
}
