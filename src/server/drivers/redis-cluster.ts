// The ClusterBackend over Redis: node records with a TTL, atomic reaping of lost nodes, room restore, pub/sub bus.
import type { Redis } from 'ioredis';
import type { ClusterBackend, HeartbeatState, NodeRecord, ReapedNode } from '../cluster/types.js';
import { driverError, loadScripts, scriptRunner } from './redis-lua.js';

/*
 * Keys, under the driver's prefix (P), besides the room keys of redis.ts:
 *   P node:<id>          string: the node's record (JSON), with a TTL refreshed by each heartbeat
 *   P nodes              set of node ids ever registered and not yet reaped
 *   P reaped:<id>        string with a TTL: the node was reaped while it still lived (it learns on its next heartbeat)
 *   P lost:<roomId>      string with a TTL: the room's node was reaped (value: that node's id)
 *   P ended:<roomId>     string with a TTL: a relayed match (tombstone room) ended
 *   P room:<id>:state    hash: a `sharedState` room's key-value state (JSON text by key)
 * Channels are `P` + the name the caller gives.
 */
const SCRIPTS = {
  // ARGV: P, id, record JSON, ttlMs. Returns 'ok', 'new' (not in the registry: first beat, or Redis
  // lost its data) or 'reaped' (others took this node for dead meanwhile).
  heartbeat: `
local id = ARGV[2]
local state = 'ok'
if redis.call('EXISTS', P .. 'reaped:' .. id) == 1 then
  redis.call('DEL', P .. 'reaped:' .. id)
  state = 'reaped'
elseif redis.call('SISMEMBER', P .. 'nodes', id) == 0 then
  state = 'new'
end
redis.call('SET', P .. 'node:' .. id, ARGV[3], 'PX', ARGV[4])
redis.call('SADD', P .. 'nodes', id)
return state`,
  // ARGV: P, id
  deregister: `
redis.call('DEL', P .. 'node:' .. ARGV[2])
redis.call('SREM', P .. 'nodes', ARGV[2])
return 1`,
  // ARGV: P
  nodes: `
local out = {}
for _, id in ipairs(redis.call('SMEMBERS', P .. 'nodes')) do
  local v = redis.call('GET', P .. 'node:' .. id)
  if v then out[#out + 1] = v end
end
return out`,
  // ARGV: P, lostTtlMs. Returns { nodeId, { roomId... }, nodeId, { ... } ... }.
  reap: `
local out = {}
for _, id in ipairs(redis.call('SMEMBERS', P .. 'nodes')) do
  if redis.call('EXISTS', P .. 'node:' .. id) == 0 then
    local rooms = redis.call('SMEMBERS', P .. 'node:' .. id .. ':rooms')
    for _, rid in ipairs(rooms) do
      dropRoom(rid)
      redis.call('SET', P .. 'lost:' .. rid, id, 'PX', ARGV[2])
    end
    redis.call('DEL', P .. 'node:' .. id .. ':rooms')
    redis.call('SREM', P .. 'nodes', id)
    redis.call('SET', P .. 'reaped:' .. id, '1', 'PX', ARGV[2])
    out[#out + 1] = id
    out[#out + 1] = rooms
  end
end
return out`,
  // ARGV: P, nodeId, rooms JSON ([{ room, seated }]). Makes the registry agree with what the node runs.
  syncRooms: `
local nodeRooms = P .. 'node:' .. ARGV[2] .. ':rooms'
local running = cjson.decode(ARGV[3])
local keep = {}
for _, entry in ipairs(running) do keep[entry.room.id] = true end
for _, id in ipairs(redis.call('SMEMBERS', nodeRooms)) do
  if not keep[id] then dropRoom(id) end
end
for _, entry in ipairs(running) do
  local r = entry.room
  local key = rk(r.id)
  if redis.call('EXISTS', key) == 0 then
    redis.call('HSET', key, 'type', r.type, 'nodeId', r.nodeId, 'maxClients', r.maxClients,
      'locked', r.locked and '1' or '0', 'private', r.private and '1' or '0',
      'tags', cjson.encode(r.tags), 'data', r.data, 'createdAt', r.createdAt)
    redis.call('ZADD', P .. 'type:' .. r.type, r.createdAt, r.id)
    redis.call('ZADD', P .. 'rooms', r.createdAt, r.id)
    redis.call('SADD', nodeRooms, r.id)
  end
  redis.call('DEL', key .. ':seated')
  for _, seat in ipairs(entry.seated) do
    redis.call('SADD', key .. ':seated', seat)
    redis.call('SADD', key .. ':used', seat)
  end
  if entry.state then
    redis.call('DEL', key .. ':state')
    for k, v in pairs(entry.state) do redis.call('HSET', key .. ':state', k, v) end
  end
end
return #running`,
  // ARGV: P, id, changes JSON ([{ key, value | null }])
  writeState: `
local key = rk(ARGV[2])
if redis.call('EXISTS', key) == 0 then return 0 end
for _, change in ipairs(cjson.decode(ARGV[3])) do
  if change.value == cjson.null then redis.call('HDEL', key .. ':state', change.key)
  else redis.call('HSET', key .. ':state', change.key, change.value) end
end
return 1`,
  // ARGV: P, id
  readState: `
local key = rk(ARGV[2])
if redis.call('EXISTS', key) == 0 then return false end
return redis.call('HGETALL', key .. ':state')`,
} as const;

type ScriptName = keyof typeof SCRIPTS;
const LOADED = loadScripts(SCRIPTS);

/**
 * The cluster side of `redisDriver()`. `client` carries commands; a duplicate connection carries
 * subscriptions (made on the first `subscribe`, resubscribed by ioredis after a reconnect).
 */
export function redisCluster(client: Redis, prefix: string): ClusterBackend {
  const run = scriptRunner<ScriptName>(client, prefix, LOADED);
  const handlers = new Map<string, Set<(message: string) => void>>();
  const reconnectListeners = new Set<() => void>();
  let subscriber: Redis | null = null;
  let readyOnce = client.status === 'ready';

  client.on('ready', () => {
    if (!readyOnce) {
      readyOnce = true;
      return;
    }
    for (const listener of [...reconnectListeners]) listener();
  });

  const subscriberConnection = (): Redis => {
    if (subscriber) return subscriber;
    const sub = client.duplicate({
      enableOfflineQueue: true,
      maxRetriesPerRequest: null,
      lazyConnect: false,
    });
    // Connection errors surface through the command client's failures; keep the process alive.
    sub.on('error', () => {});
    sub.on('message', (channel: string, message: string) => {
      const set = handlers.get(channel);
      if (!set) return;
      for (const handler of [...set]) handler(message);
    });
    subscriber = sub;
    return sub;
  };

  return {
    redis: client,
    prefix,
    async heartbeat(node: NodeRecord, ttlMs: number) {
      return (await run('heartbeat', [
        node.id,
        JSON.stringify(node),
        Math.max(1, Math.round(ttlMs)),
      ])) as HeartbeatState;
    },
    async deregister(nodeId) {
      await run('deregister', [nodeId]);
    },
    async nodes() {
      const rows = (await run('nodes', [])) as string[];
      const records: NodeRecord[] = [];
      for (const row of rows) {
        try {
          records.push(JSON.parse(row) as NodeRecord);
        } catch {
          // A record that is not JSON was not written by netloom: skip it.
        }
      }
      return records.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    },
    async reapLostNodes(lostTtlMs) {
      const flat = (await run('reap', [Math.max(1, Math.round(lostTtlMs))])) as Array<string | string[]>;
      const reaped: ReapedNode[] = [];
      for (let i = 0; i + 1 < flat.length; i += 2) {
        reaped.push({ nodeId: String(flat[i]), roomIds: (flat[i + 1] as string[]).map(String) });
      }
      return reaped;
    },
    async syncRooms(nodeId, rooms) {
      // Lua's cjson turns an empty table into {}: tags go as objects, data as its JSON text.
      const payload = rooms.map(({ room, seated, state }) => ({
        room: {
          id: room.id,
          type: room.type,
          nodeId: room.nodeId,
          maxClients: room.maxClients,
          locked: room.locked === true,
          private: room.private === true,
          tags: room.tags ?? {},
          data: JSON.stringify(room.data ?? null),
          createdAt: room.createdAt,
        },
        seated,
        ...(state ? { state } : {}),
      }));
      await run('syncRooms', [nodeId, JSON.stringify(payload)]);
    },
    async roomGone(roomId) {
      try {
        const [lost, ended] = await client.mget(`${prefix}lost:${roomId}`, `${prefix}ended:${roomId}`);
        return lost !== null ? 'lost' : ended !== null ? 'ended' : null;
      } catch (err) {
        throw driverError('roomGone', err);
      }
    },
    async markEnded(roomId, ttlMs) {
      try {
        await client.set(`${prefix}ended:${roomId}`, '1', 'PX', Math.max(1, Math.round(ttlMs)));
      } catch (err) {
        throw driverError('markEnded', err);
      }
    },
    async writeState(roomId, changes) {
      await run('writeState', [roomId, JSON.stringify(changes)]);
    },
    async readState(roomId) {
      const flat = (await run('readState', [roomId])) as string[] | null;
      if (!flat) return null;
      const out: Record<string, string> = {};
      for (let i = 0; i + 1 < flat.length; i += 2) out[flat[i]] = flat[i + 1];
      return out;
    },
    async publish(channel, message) {
      try {
        return await client.publish(prefix + channel, message);
      } catch (err) {
        throw driverError('publish', err);
      }
    },
    async subscribe(channel, onMessage) {
      const name = prefix + channel;
      let set = handlers.get(name);
      if (!set) {
        set = new Set();
        handlers.set(name, set);
        try {
          await subscriberConnection().subscribe(name);
        } catch (err) {
          handlers.delete(name);
          throw driverError('subscribe', err);
        }
      }
      set.add(onMessage);
      return async () => {
        const current = handlers.get(name);
        if (!current?.delete(onMessage) || current.size > 0) return;
        handlers.delete(name);
        await subscriber?.unsubscribe(name).catch(() => undefined);
      };
    },
    onReconnect(listener) {
      reconnectListeners.add(listener);
      return () => reconnectListeners.delete(listener);
    },
    async close() {
      handlers.clear();
      reconnectListeners.clear();
      const sub = subscriber;
      subscriber = null;
      if (sub) sub.disconnect();
    },
  };
}
