// Lua for the Redis driver: the shared prelude (room keys, reservation, removal) and a runner that calls scripts by sha.
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { NetloomError } from '../../codec/errors.js';

export const LUA_PRELUDE = `
local P = ARGV[1]
local function rk(id) return P .. 'room:' .. id end
local function purge(id, now) redis.call('ZREMRANGEBYSCORE', rk(id) .. ':res', '-inf', now) end
local function decodeWanted(json)
  if json == nil or json == '' then return nil end
  return cjson.decode(json)
end
local function tagsMatch(tagsJson, wanted)
  if wanted == nil then return true end
  local tags = cjson.decode(tagsJson)
  for k, v in pairs(wanted) do
    if tags[k] ~= v then return false end
  end
  return true
end
local function reserve(id, seat, exp, now)
  local key = rk(id)
  purge(id, now)
  local h = redis.call('HMGET', key, 'locked', 'maxClients')
  if h[1] == '1' then return 'locked' end
  local n = redis.call('SCARD', key .. ':seated') + redis.call('ZCARD', key .. ':res')
  if n >= tonumber(h[2]) then return 'full' end
  redis.call('ZADD', key .. ':res', exp, seat)
  return 'ok'
end
local function view(id, now)
  local key = rk(id)
  purge(id, now)
  local h = redis.call('HMGET', key, 'type', 'nodeId', 'maxClients', 'locked', 'private', 'tags', 'data', 'createdAt')
  return { id, h[1], h[2], h[3], h[4], h[5], h[6], h[7], h[8],
    redis.call('SCARD', key .. ':seated'), redis.call('ZCARD', key .. ':res') }
end
local function dropRoom(id)
  local key = rk(id)
  local h = redis.call('HMGET', key, 'type', 'nodeId')
  if h[1] then redis.call('ZREM', P .. 'type:' .. h[1], id) end
  if h[2] then redis.call('SREM', P .. 'node:' .. h[2] .. ':rooms', id) end
  redis.call('ZREM', P .. 'rooms', id)
  redis.call('DEL', key, key .. ':res', key .. ':seated', key .. ':used', key .. ':state')
end
`;

export interface LoadedScript {
  source: string;
  sha: string;
}

/** Prepends the prelude to each script body and computes its sha1 (for EVALSHA). */
export function loadScripts<N extends string>(bodies: Record<N, string>): Record<N, LoadedScript> {
  return Object.fromEntries(
    Object.entries<string>(bodies).map(([name, body]) => {
      const source = LUA_PRELUDE + body;
      return [name, { source, sha: createHash('sha1').update(source).digest('hex') }];
    }),
  ) as Record<N, LoadedScript>;
}

/**
 * Runs a loaded script with ARGV = [prefix, ...args] (EVALSHA, falling back to EVAL once Redis
 * lost its script cache); any failure becomes a NetloomError `driver_unavailable`.
 */
export function scriptRunner<N extends string>(
  client: Redis,
  prefix: string,
  loaded: Record<N, LoadedScript>,
): (name: N, args: (string | number)[]) => Promise<unknown> {
  return async (name, args) => {
    const script = loaded[name];
    const argv = [prefix, ...args.map(String)];
    try {
      try {
        return await client.evalsha(script.sha, 0, ...argv);
      } catch (err) {
        if (!(err instanceof Error && err.message.startsWith('NOSCRIPT'))) throw err;
        return await client.eval(script.source, 0, ...argv);
      }
    } catch (err) {
      throw driverError(name, err);
    }
  };
}

/** A Redis failure as the stable `driver_unavailable` error. */
export function driverError(operation: string, err: unknown): NetloomError {
  return new NetloomError(
    'driver_unavailable',
    `redisDriver: ${operation} failed: ${err instanceof Error ? err.message : String(err)}`,
    { cause: err },
  );
}
