// Test harness for the cluster matchmaker: nodes (instances with their own Redis connections) sharing a real redis-server.
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { redisCluster } from '../../src/server/drivers/redis-cluster.js';
import type { Identity } from '../../src/server/identity.js';
import {
  ClusterMatchmaker,
  type ClusterMatchmakerConfig,
  type MatchInfo,
  type MatchmakerBackend,
  type MatchmakerOptions,
} from '../../src/server/matchmaker/index.js';
import { Metrics, silentLogger } from '../../src/server/metrics.js';
import type { JoinTicket } from '../../src/server/options.js';
import { systemClock } from '../../src/shared/clock.js';
import type { MatchTicketRequest } from '../../src/shared/matchmaking.js';
import { type RedisInstance, startRedis } from '../helpers/redis.js';

const CAPACITY: Record<string, number> = { duel: 8, arena: 16 };

export interface Node {
  name: string;
  /** The driver prefix the node's keys live under (its matchmaker keys under `<prefix>mm:`). */
  prefix: string;
  mm: ClusterMatchmaker;
  metrics: Metrics;
  /** Rooms this node created for matches, with the match each was made for. */
  rooms: Array<{ id: string; match: MatchInfo }>;
  seats: Array<{ roomId: string; identity: Identity | undefined }>;
  /** Makes this node's room creation wait until released (a slow or stuck delivery). */
  holdRooms(): () => void;
  /** Cuts this node off from Redis at once, without any clean-up (the process died or lost the network). */
  kill(): void;
  /** The node's Redis command client (tests read and plant keys with it). */
  redis: Redis;
  /** Its connections, each cut by `disconnect()`. */
  clients: Array<{ disconnect(): void }>;
}

let redis: RedisInstance | undefined;
let prefixSeq = 0;
const nodes: Node[] = [];

/** Starts a redis-server for the file's tests, and closes every node after each test. */
export function useRedis(): void {
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await redis?.stop();
  });
  afterEach(async () => {
    for (const node of nodes.splice(0)) {
      await node.mm.close();
      for (const c of node.clients) c.disconnect();
    }
  });
}

/** `redis://` URL of the file's redis-server. */
export function redisUrl(): string {
  if (!redis) throw new Error('useRedis() first');
  return redis.url;
}

/** A key prefix no other test uses. */
export function freshPrefix(): string {
  return `t${++prefixSeq}:`;
}

/** A cluster backend as the Redis driver provides it: a command client, a subscriber, channels under the prefix. */
export function backend(url: string, prefix: string, redisOptions: Record<string, unknown> = {}) {
  const commands = new Redis(url, { maxRetriesPerRequest: 1, ...redisOptions });
  const subscriber = commands.duplicate();
  for (const c of [commands, subscriber]) c.on('error', () => {});
  const handlers = new Map<string, Set<(message: string) => void>>();
  subscriber.on('message', (channel: string, message: string) => {
    for (const handler of handlers.get(channel) ?? []) handler(message);
  });
  const b: MatchmakerBackend = {
    redis: commands,
    prefix,
    async publish(channel, message) {
      return commands.publish(prefix + channel, message);
    },
    async subscribe(bare, onMessage) {
      const channel = prefix + bare;
      let set = handlers.get(channel);
      if (!set) {
        set = new Set();
        handlers.set(channel, set);
        await subscriber.subscribe(channel);
      }
      set.add(onMessage);
      return async () => {
        set.delete(onMessage);
        if (set.size === 0) {
          handlers.delete(channel);
          await subscriber.unsubscribe(channel);
        }
      };
    },
  };
  return { backend: b, clients: [commands, subscriber] };
}

/** The backend `redisDriver()` exposes as `driver.cluster`, on its own command client. */
function driverBackend(
  url: string,
  prefix: string,
): { backend: MatchmakerBackend; clients: Array<{ disconnect(): void }> } {
  const commands = new Redis(url, { maxRetriesPerRequest: 1 });
  commands.on('error', () => {});
  const cluster = redisCluster(commands, prefix);
  return { backend: cluster, clients: [commands, { disconnect: () => void cluster.close() }] };
}

export interface ClusterOptions {
  /** Use the Redis driver's own cluster backend instead of the hand-built one. */
  driverBackend?: boolean;
  options?: MatchmakerOptions;
  config?: Partial<ClusterMatchmakerConfig>;
  url?: string;
  prefix?: string;
  redisOptions?: Record<string, unknown>;
}

/** Starts `count` instances sharing one prefix (a fresh one per call unless given). */
export function cluster(count: number, opts: ClusterOptions = {}): Node[] {
  const prefix = opts.prefix ?? freshPrefix();
  return Array.from({ length: count }, (_, i) => node(`n${i}`, prefix, opts));
}

function node(name: string, prefix: string, opts: ClusterOptions): Node {
  const { backend: b, clients } = opts.driverBackend
    ? driverBackend(opts.url ?? redisUrl(), prefix)
    : backend(opts.url ?? redisUrl(), prefix, opts.redisOptions);
  const metrics = new Metrics();
  const rooms: Node['rooms'] = [];
  const seats: Node['seats'] = [];
  let hold: Promise<void> | null = null;
  const mm = new ClusterMatchmaker(
    {
      clock: systemClock,
      log: silentLogger,
      metrics,
      capacity: (type) => (Object.hasOwn(CAPACITY, type) ? CAPACITY[type] : undefined),
      createRoom: async (_type, match) => {
        if (hold) await hold;
        const id = `${name}-room${rooms.length + 1}`;
        rooms.push({ id, match: match as MatchInfo });
        return { id };
      },
      reserveSeat: async (roomId, identity): Promise<JoinTicket> => {
        seats.push({ roomId, identity });
        return {
          roomId,
          roomType: 'duel',
          seat: `seat${seats.length}`,
          expiresAt: 0,
          transports: { websocket: '/ws' },
        };
      },
    },
    { intervalMs: 20, roomOptions: (match) => match, ...opts.options },
    { backend: b, nodeId: name, leaseMs: 200, ...opts.config },
  );
  const n: Node = {
    name,
    prefix,
    mm,
    metrics,
    rooms,
    seats,
    redis: b.redis,
    clients,
    holdRooms() {
      let release!: () => void;
      hold = new Promise((resolve) => {
        release = resolve;
      });
      return () => {
        hold = null;
        release();
      };
    },
    kill() {
      for (const c of clients) c.disconnect();
    },
  };
  nodes.push(n);
  return n;
}

export function duel(overrides: Partial<MatchTicketRequest> = {}): MatchTicketRequest {
  return { roomType: 'duel', minPlayers: 2, maxPlayers: 2, ...overrides };
}

export { outcome, rejection, roomOf, user } from './harness.js';

/** True once the node's held room creation has been asked for (its pass claimed a match). */
export function nodesClaimed(n: Node): boolean {
  return n.metrics.get('matchmaker_matches') > 0;
}
