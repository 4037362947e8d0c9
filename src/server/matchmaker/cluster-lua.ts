// Lua for the cluster matchmaker: every step that changes shared ticket state is one atomic script.
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';

/*
 * Keys, under P = `<driver prefix>mm:`:
 *   P t:<id>   hash  o owner, d ticket JSON, i identity JSON (or ''), c created (ms, Redis TIME),
 *                    s arrival number, st state (p pending, c claimed, d done), k claim token, r result JSON
 *   P pending  zset  id by arrival number: tickets waiting for a match
 *   P claimed  zset  id by claim time: tickets a pass claimed and whose delivery has not finished
 *   P owners   hash  owner -> unfinished tickets (pending + claimed)
 *   P seq      counter of arrivals;  P matches  counter of matches formed;  P leader  the pass lease
 * Every script takes P as ARGV[1] and no KEYS (a single Redis, not Redis Cluster).
 */
const PRELUDE = `
local P = ARGV[1]
local function tk(id) return P .. 't:' .. id end
local function nowMs()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function finish(id, st, owner, result, retain)
  if st == 'p' then redis.call('ZREM', P .. 'pending', id) else redis.call('ZREM', P .. 'claimed', id) end
  if owner then
    local n = redis.call('HINCRBY', P .. 'owners', owner, -1)
    if n <= 0 then redis.call('HDEL', P .. 'owners', owner) end
  end
  local key = tk(id)
  redis.call('HSET', key, 'st', 'd', 'r', result)
  redis.call('HDEL', key, 'd', 'i', 'k')
  redis.call('PEXPIRE', key, math.max(1, math.ceil(retain)))
end
`;

const SCRIPTS = {
  /** ARGV: P, id, owner, perUser, maxPending, ticket JSON, identity JSON. Returns 'ok', 'user' or 'full'. */
  submit: `
local id, owner = ARGV[2], ARGV[3]
local owned = tonumber(redis.call('HGET', P .. 'owners', owner) or '0')
if owned >= tonumber(ARGV[4]) then return 'user' end
if redis.call('ZCARD', P .. 'pending') + redis.call('ZCARD', P .. 'claimed') >= tonumber(ARGV[5]) then
  return 'full'
end
local seq = redis.call('INCR', P .. 'seq')
redis.call('HSET', tk(id), 'o', owner, 'd', ARGV[6], 'i', ARGV[7], 'c', nowMs(), 's', seq, 'st', 'p')
redis.call('ZADD', P .. 'pending', seq, id)
redis.call('HINCRBY', P .. 'owners', owner, 1)
return 'ok'
`,
  /**
   * ARGV: P, id, check owner ('1'/'0'), owner, result JSON, retainMs. Returns 'missing' (no such ticket
   * for that owner), 'done' (already finished) or 'cancelled'.
   */
  cancel: `
local id = ARGV[2]
local h = redis.call('HMGET', tk(id), 'st', 'o')
if not h[1] or (ARGV[3] == '1' and h[2] ~= ARGV[4]) then return 'missing' end
if h[1] == 'd' then return 'done' end
finish(id, h[1], h[2], ARGV[5], tonumber(ARGV[6]))
return 'cancelled'
`,
  /**
   * The lease and the counts. ARGV: P, node id, leaseMs. Returns { leader (1/0), pending, claimed, matches }.
   */
  tick: `
local key = P .. 'leader'
local leader = 0
if redis.call('GET', key) == ARGV[2] then
  redis.call('PEXPIRE', key, ARGV[3])
  leader = 1
elseif redis.call('SET', key, ARGV[2], 'NX', 'PX', ARGV[3]) then
  leader = 1
end
return { leader, redis.call('ZCARD', P .. 'pending'), redis.call('ZCARD', P .. 'claimed'),
  tonumber(redis.call('GET', P .. 'matches') or '0') }
`,
  /** ARGV: P, node id. Gives the lease up if this node holds it. */
  resign: `
if redis.call('GET', P .. 'leader') == ARGV[2] then redis.call('DEL', P .. 'leader') end
return 1
`,
  /**
   * The start of a pass. ARGV: P, timeoutMs, claimTimeoutMs, timeout result JSON, retainMs.
   * Puts claims older than claimTimeoutMs back to pending, ends pending tickets older than timeoutMs,
   * and returns { now, { timed-out ids }, { pending id, arrival, ... } }.
   */
  sweep: `
local now = nowMs()
local stale = redis.call('ZRANGEBYSCORE', P .. 'claimed', '-inf', now - tonumber(ARGV[3]))
for _, id in ipairs(stale) do
  local h = redis.call('HMGET', tk(id), 'st', 's')
  redis.call('ZREM', P .. 'claimed', id)
  if h[1] == 'c' then
    redis.call('HSET', tk(id), 'st', 'p')
    redis.call('HDEL', tk(id), 'k')
    redis.call('ZADD', P .. 'pending', h[2], id)
  end
end
local timeout, retain = tonumber(ARGV[2]), tonumber(ARGV[5])
local ended = {}
local more = true
while more do
  local batch = redis.call('ZRANGE', P .. 'pending', 0, 99)
  more = #batch == 100
  for _, id in ipairs(batch) do
    local h = redis.call('HMGET', tk(id), 'c', 'o', 'st')
    if not h[1] then
      redis.call('ZREM', P .. 'pending', id)
    elseif now - tonumber(h[1]) >= timeout then
      finish(id, 'p', h[2], ARGV[4], retain)
      ended[#ended + 1] = id
    else
      more = false
      break
    end
  end
end
return { now, ended, redis.call('ZRANGE', P .. 'pending', 0, -1, 'WITHSCORES') }
`,
  /** ARGV: P, ids... Returns, per id, { ticket JSON, identity JSON, created, owner } (false when gone). */
  fetch: `
local out = {}
for i = 2, #ARGV do
  local h = redis.call('HMGET', tk(ARGV[i]), 'd', 'i', 'c', 'o')
  out[#out + 1] = h[1] and h or false
end
return out
`,
  /**
   * ARGV: P, token, then per match: its size n and n ids. Claims each match whose tickets are all still
   * pending (else leaves it); returns 1 or 0 per match.
   */
  claim: `
local now = nowMs()
local token = ARGV[2]
local out = {}
local i = 3
local formed = 0
while i <= #ARGV do
  local n = tonumber(ARGV[i])
  local ok = 1
  for j = i + 1, i + n do
    if redis.call('HGET', tk(ARGV[j]), 'st') ~= 'p' then ok = 0 break end
  end
  if ok == 1 then
    for j = i + 1, i + n do
      local id = ARGV[j]
      redis.call('ZREM', P .. 'pending', id)
      redis.call('ZADD', P .. 'claimed', now, id)
      redis.call('HSET', tk(id), 'st', 'c', 'k', token)
    end
    formed = formed + 1
  end
  out[#out + 1] = ok
  i = i + n + 1
end
if formed > 0 then redis.call('INCRBY', P .. 'matches', formed) end
return out
`,
  /**
   * ARGV: P, retainMs, then per ticket: id, claim token, result JSON. Finishes each ticket still claimed
   * under that token (one a cancel or a re-claim took is left alone); returns the ids finished.
   */
  deliver: `
local retain = tonumber(ARGV[2])
local out = {}
for i = 3, #ARGV, 3 do
  local id = ARGV[i]
  local h = redis.call('HMGET', tk(id), 'st', 'k', 'o')
  if h[1] == 'c' and h[2] == ARGV[i + 1] then
    finish(id, 'c', h[3], ARGV[i + 2], retain)
    out[#out + 1] = id
  end
end
return out
`,
} as const;

export type ScriptName = keyof typeof SCRIPTS;

interface Loaded {
  body: string;
  sha: string;
}

const LOADED = Object.fromEntries(
  Object.entries(SCRIPTS).map(([name, body]) => {
    const full = PRELUDE + body;
    return [name, { body: full, sha: createHash('sha1').update(full).digest('hex') }];
  }),
) as Record<ScriptName, Loaded>;

/** Runs a script by sha, loading it on the first NOSCRIPT (Redis restarted or flushed its script cache). */
export async function runScript(
  redis: Redis,
  name: ScriptName,
  argv: Array<string | number>,
): Promise<unknown> {
  const script = LOADED[name];
  try {
    return await redis.evalsha(script.sha, 0, ...argv);
  } catch (err) {
    if (!(err instanceof Error && err.message.startsWith('NOSCRIPT'))) throw err;
    return redis.eval(script.body, 0, ...argv);
  }
}
