import { createHash } from 'node:crypto';

/**
 * The scripts behind `get`, `refund` and `reset`, kept apart from the decision script (lua.ts): they read
 * or edit the same per-policy HASHes (fields `b`, `s`, `c`, `p`; see DECIDE_SCRIPT), one policy key at a
 * time, and never touch other policies. Time comes from Redis `TIME` unless ARGV[1] sets it.
 */

/** KEYS: policy keys. Reply: `{ nowMs, b1, s1, c1, p1, b2, ... }` (false for a missing field). The state is evaluated by the caller. */
export const PEEK_SCRIPT = `
local now = tonumber(ARGV[1])
if now == 0 then
  local t = redis.call('TIME')
  now = t[1] * 1000 + math.floor(t[2] / 1000)
end
local out = { now }
for i = 1, #KEYS do
  local h = redis.call('HMGET', KEYS[i], 'b', 's', 'c', 'p')
  for j = 1, 4 do out[#out + 1] = h[j] or '' end
end
return out
`;

/**
 * Gives back units a request took. KEYS: policy keys. ARGV: now-override, the decision time `at` (0 = now),
 * then per policy: algorithm, limit, windowMs, cost. Only the window that counted the request is credited,
 * usage never drops below zero, a GCRA arrival time never moves before now, and a block stays. The keys keep
 * their expiry. Same arithmetic as MemoryStore.refund. Reply: `{ nowMs, policies changed }`.
 */
export const REFUND_SCRIPT = `
local now = tonumber(ARGV[1])
if now == 0 then
  local t = redis.call('TIME')
  now = t[1] * 1000 + math.floor(t[2] / 1000)
end
local at = tonumber(ARGV[2])
if at == 0 then at = now end
local changed = 0
for i = 1, #KEYS do
  local b = (i - 1) * 4 + 2
  local algo = tonumber(ARGV[b + 1])
  local limit = tonumber(ARGV[b + 2])
  local win = tonumber(ARGV[b + 3])
  local cost = tonumber(ARGV[b + 4])
  local key = KEYS[i]
  local h = redis.call('HMGET', key, 'b', 's', 'c', 'p')
  local untilMs = tonumber(h[1])
  local s = tonumber(h[2])
  if s and cost > 0 and not (untilMs and untilMs > now) then
    local field, value = false, 0
    if algo == 1 then
      if now < s + win and s <= at then
        field = 'c'
        value = (tonumber(h[3]) or 0) - cost
      end
    elseif algo == 2 then
      local idx = math.floor(now / win)
      local counted = math.floor(at / win)
      if s == idx and counted == idx then
        field = 'c'
        value = (tonumber(h[3]) or 0) - cost
      elseif s == idx and counted == idx - 1 then
        field = 'p'
        value = (tonumber(h[4]) or 0) - cost
      elseif s == idx - 1 and counted == s then
        field = 'c'
        value = (tonumber(h[3]) or 0) - cost
      end
    elseif s > now then
      field = 's'
      value = s - cost * (win / limit)
      if value < now then value = now end
      value = math.ceil(value)
    end
    if field then
      if value < 0 then value = 0 end
      redis.call('HSET', key, field, value)
      changed = changed + 1
    end
  end
end
return { now, changed }
`;

/** Forgets a principal's state. KEYS: the policy keys to forget. Reply: 1 when something was removed, else 0. */
export const RESET_SCRIPT = `
if #KEYS == 0 then return 0 end
if redis.call('DEL', unpack(KEYS)) > 0 then return 1 end
return 0
`;

const sha = (script: string) => createHash('sha1').update(script).digest('hex');

/** A script and its SHA-1, for EVALSHA with an EVAL fallback. */
export interface Script {
  readonly source: string;
  readonly sha: string;
}

export const PEEK: Script = { source: PEEK_SCRIPT, sha: sha(PEEK_SCRIPT) };
export const REFUND: Script = { source: REFUND_SCRIPT, sha: sha(REFUND_SCRIPT) };
export const RESET: Script = { source: RESET_SCRIPT, sha: sha(RESET_SCRIPT) };
