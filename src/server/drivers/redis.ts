// redisDriver(): the Driver over Redis (ioredis) for multi-node games; every operation is one Lua script.
import { Redis } from 'ioredis';
import { NetloomError } from '../../codec/errors.js';
import type { Json } from '../identity.js';
import type {
  CreateResult,
  Driver,
  NewRoom,
  RedeemResult,
  ReserveResult,
  RoomFilter,
  RoomRecord,
  RoomTags,
} from './driver.js';
import { redisCluster } from './redis-cluster.js';
import { driverError, loadScripts, scriptRunner } from './redis-lua.js';

export interface RedisDriverOptions {
  /** `redis://host:port/db` to connect to (default `redis://127.0.0.1:6379`); ignored when `client` is given. */
  url?: string;
  /** An ioredis client you own: the driver uses it and never quits it. */
  client?: Redis;
  /** Key prefix for everything the driver stores (default `netloom:`). */
  prefix?: string;
  /** How long the first connection may take before `redisDriver()` rejects (default 3000 ms). */
  connectTimeoutMs?: number;
}

/*
 * Keys, under `prefix` (P):
 *   P room:<id>          hash: type, nodeId, maxClients, locked, private, tags (JSON), data (JSON), createdAt
 *   P room:<id>:res      zset of live reservations, score = expiresAt (purged `<= now` by every script that counts)
 *   P room:<id>:seated   set of seated seat ids
 *   P room:<id>:used     set of redeemed seat ids (single use, kept while the room lives)
 *   P type:<type>        zset of room ids of that type, score = createdAt
 *   P rooms              zset of all room ids, score = createdAt
 *   P node:<id>:rooms    set of the room ids a node runs (for reaping a lost node)
 *   Cluster keys (node records, lost rooms): see redis-cluster.ts.
 * Scripts build room keys from ids they read, so this driver targets one Redis (or a primary with
 * replicas), not Redis Cluster. Times always come from arguments, never from Redis's clock.
 * Rooms with the same createdAt order by id (memoryDriver orders them by insertion).
 */
const SCRIPTS = {
  // ARGV: P, id, type, nodeId, maxClients, locked, private, tags, data, createdAt, limit ('' = none)
  createRoom: `
local id = ARGV[2]
local typeKey = P .. 'type:' .. ARGV[3]
if redis.call('EXISTS', rk(id)) == 1 then return 'exists' end
if ARGV[11] ~= '' and redis.call('ZCARD', typeKey) >= tonumber(ARGV[11]) then return 'limit' end
redis.call('DEL', rk(id) .. ':res', rk(id) .. ':seated', rk(id) .. ':used')
redis.call('HSET', rk(id), 'type', ARGV[3], 'nodeId', ARGV[4], 'maxClients', ARGV[5], 'locked', ARGV[6],
  'private', ARGV[7], 'tags', ARGV[8], 'data', ARGV[9], 'createdAt', ARGV[10])
redis.call('ZADD', typeKey, ARGV[10], id)
redis.call('ZADD', P .. 'rooms', ARGV[10], id)
redis.call('SADD', P .. 'node:' .. ARGV[4] .. ':rooms', id)
return 'ok'`,
  // ARGV: P, id
  removeRoom: `
dropRoom(ARGV[2])
return 1`,
  // ARGV: P, id, now
  getRoom: `
if redis.call('EXISTS', rk(ARGV[2])) == 0 then return false end
return view(ARGV[2], ARGV[3])`,
  // ARGV: P, now, type ('' = any), tags JSON ('' = any)
  listRooms: `
local now = ARGV[2]
local setKey = P .. 'rooms'
if ARGV[3] ~= '' then setKey = P .. 'type:' .. ARGV[3] end
local wanted = decodeWanted(ARGV[4])
local out = {}
for _, id in ipairs(redis.call('ZRANGE', setKey, 0, -1)) do
  local h = redis.call('HMGET', rk(id), 'private', 'tags')
  if h[1] == '0' and tagsMatch(h[2], wanted) then out[#out + 1] = view(id, now) end
end
return out`,
  // ARGV: P, id, seat, expiresAt, now
  reserveSeat: `
if redis.call('EXISTS', rk(ARGV[2])) == 0 then return 'not_found' end
return reserve(ARGV[2], ARGV[3], ARGV[4], ARGV[5])`,
  // ARGV: P, type, nodeId, tags JSON ('' = any), seat, expiresAt, now
  reserveSeatInAny: `
local wanted = decodeWanted(ARGV[4])
for _, id in ipairs(redis.call('ZRANGE', P .. 'type:' .. ARGV[2], 0, -1)) do
  local h = redis.call('HMGET', rk(id), 'nodeId', 'private', 'locked', 'tags')
  if (ARGV[3] == '' or h[1] == ARGV[3]) and h[2] == '0' and h[3] == '0' and tagsMatch(h[4], wanted) then
    if reserve(id, ARGV[5], ARGV[6], ARGV[7]) == 'ok' then return id end
  end
end
return false`,
  // ARGV: P, id, seat, now
  redeemSeat: `
local key = rk(ARGV[2])
local seat = ARGV[3]
if redis.call('EXISTS', key) == 0 then return 'not_found' end
if redis.call('SISMEMBER', key .. ':used', seat) == 1 then return 'used' end
local exp = redis.call('ZSCORE', key .. ':res', seat)
redis.call('ZREM', key .. ':res', seat)
if not exp or tonumber(exp) <= tonumber(ARGV[4]) then return 'expired' end
redis.call('SADD', key .. ':used', seat)
redis.call('SADD', key .. ':seated', seat)
return 'ok'`,
  // ARGV: P, id, seat
  releaseSeat: `
local key = rk(ARGV[2])
if redis.call('EXISTS', key) == 0 then return 0 end
redis.call('SREM', key .. ':seated', ARGV[3])
redis.call('ZREM', key .. ':res', ARGV[3])
return 1`,
  // ARGV: P, id, field, '0' | '1'
  setFlag: `
if redis.call('EXISTS', rk(ARGV[2])) == 0 then return 0 end
redis.call('HSET', rk(ARGV[2]), ARGV[3], ARGV[4])
return 1`,
} as const;

type ScriptName = keyof typeof SCRIPTS;

const LOADED = loadScripts(SCRIPTS);

const DEFAULT_URL = 'redis://127.0.0.1:6379';
const DEFAULT_CONNECT_TIMEOUT_MS = 3_000;

/**
 * A Driver that keeps rooms and seats in Redis, shared by every netloom node that uses the same
 * Redis and `prefix`. Each method is one Lua script, so concurrent calls from any number of nodes
 * never over-fill a room nor redeem a seat twice.
 *
 * Async: `const driver = await redisDriver({ url })`. It connects before resolving and rejects
 * with a NetloomError `driver_unavailable` when Redis cannot be reached within `connectTimeoutMs`
 * (no hang). Commands issued while Redis is down later fail at once with `driver_unavailable`
 * (no offline queue); the client it created keeps reconnecting in the background.
 * `close()` quits the client only when the driver created it.
 */
export async function redisDriver(options: RedisDriverOptions = {}): Promise<Driver> {
  const prefix = options.prefix ?? 'netloom:';
  const owned = options.client === undefined;
  const url = options.url ?? DEFAULT_URL;
  const client = options.client ?? createClient(url, options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS);
  if (owned || client.status === 'wait') await connect(client, owned, url);

  const run = scriptRunner<ScriptName>(client, prefix, LOADED);
  const cluster = redisCluster(client, prefix);

  return {
    async createRoom(room: NewRoom, maxRoomsOfType?: number): Promise<CreateResult> {
      const limit =
        maxRoomsOfType === undefined || maxRoomsOfType === Number.POSITIVE_INFINITY ? '' : maxRoomsOfType;
      return (await run('createRoom', [
        room.id,
        room.type,
        room.nodeId,
        room.maxClients,
        room.locked ? '1' : '0',
        room.private ? '1' : '0',
        JSON.stringify(room.tags ?? {}),
        JSON.stringify(room.data ?? null),
        room.createdAt,
        limit,
      ])) as CreateResult;
    },
    async removeRoom(roomId) {
      await run('removeRoom', [roomId]);
    },
    async getRoom(roomId, now) {
      const row = await run('getRoom', [roomId, now]);
      return row ? toRecord(row) : null;
    },
    async listRooms(filter: RoomFilter, now) {
      const rows = (await run('listRooms', [now, filter.type ?? '', tagsArg(filter.tags)])) as unknown[];
      return rows.map(toRecord);
    },
    async countRooms(type) {
      return client.zcard(`${prefix}type:${type}`).catch((err: unknown) => {
        throw driverError('countRooms', err);
      });
    },
    async reserveSeat(roomId, seatId, expiresAt, now) {
      return (await run('reserveSeat', [roomId, seatId, expiresAt, now])) as ReserveResult;
    },
    async reserveSeatInAny(filter, nodeId, seatId, expiresAt, now) {
      const id = await run('reserveSeatInAny', [
        filter.type,
        nodeId ?? '',
        tagsArg(filter.tags),
        seatId,
        expiresAt,
        now,
      ]);
      return typeof id === 'string' ? id : null;
    },
    async redeemSeat(roomId, seatId, now) {
      return (await run('redeemSeat', [roomId, seatId, now])) as RedeemResult;
    },
    async releaseSeat(roomId, seatId) {
      await run('releaseSeat', [roomId, seatId]);
    },
    async setLocked(roomId, locked) {
      return (await run('setFlag', [roomId, 'locked', locked ? '1' : '0'])) === 1;
    },
    async setPrivate(roomId, isPrivate) {
      return (await run('setFlag', [roomId, 'private', isPrivate ? '1' : '0'])) === 1;
    },
    cluster,
    async close() {
      await cluster.close();
      if (!owned) return;
      if (client.status === 'ready') await client.quit().catch(() => client.disconnect());
      else client.disconnect();
    },
  };
}

function createClient(url: string, connectTimeoutMs: number): Redis {
  return new Redis(url, {
    lazyConnect: true,
    connectTimeout: connectTimeoutMs,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    retryStrategy: (times) => Math.min(times * 200, 2_000),
  });
}

async function connect(client: Redis, owned: boolean, url: string): Promise<void> {
  // Swallow 'error' events while connecting: the rejection below carries the reason.
  const onError = (): void => {};
  client.on('error', onError);
  try {
    await client.connect();
  } catch (err) {
    if (owned) client.disconnect();
    const where = owned ? redact(url) : 'the given client';
    throw new NetloomError(
      'driver_unavailable',
      `redisDriver: cannot connect to Redis at ${where}: ${err instanceof Error ? err.message : String(err)}`,
      { cause: err },
    );
  } finally {
    if (!owned) client.off('error', onError);
  }
  // An owned client keeps the no-op listener: later connection errors surface as failed operations
  // (driver_unavailable) instead of unhandled 'error' events.
}

/** The URL without its password, for error messages. */
function redact(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return url;
  }
}

function tagsArg(tags: RoomTags | undefined): string {
  return tags ? JSON.stringify(tags) : '';
}

function toRecord(row: unknown): RoomRecord {
  const r = row as [string, string, string, string, string, string, string, string, string, number, number];
  return {
    id: r[0],
    type: r[1],
    nodeId: r[2],
    maxClients: Number(r[3]),
    clients: r[9],
    reserved: r[10],
    locked: r[4] === '1',
    private: r[5] === '1',
    tags: JSON.parse(r[6]) as RoomTags,
    data: JSON.parse(r[7]) as Json,
    createdAt: Number(r[8]),
  };
}
