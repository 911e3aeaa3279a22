import { createHash } from 'node:crypto';

/**
 * The scripts behind `get`, `refund` and `reset`, kept apart from the decision script (lua.ts): they read
 * or edit the same value, `<end>;name=state;name=state` (see DECIDE_SCRIPT), one policy entry at a time,
 * and never touch the entries of other policies. Time comes from Redis `TIME` unless ARGV[1] sets it.
 */

/** Reply: `{ nowMs, value }` (value '' when the key does not exist). The state is evaluated by the caller. */
export const PEEK_SCRIPT = `
local now = tonumber(ARGV[1])
if now == 0 then
  local t = redis.call('TIME')
  now = t[1] * 1000 + math.floor(t[2] / 1000)
end
return { now, redis.call('GET', KEYS[1]) or '' }
`;

/**
 * Gives back units a request took. ARGV: now-override, the decision time `at` (0 = now), then per policy:
 * `;name=`, algorithm, limit, windowMs, cost. Only the window that counted the request is credited, usage
 * never drops below zero, a GCRA arrival time never moves before now, and a block stays. The key keeps its
 * expiry. Same arithmetic as MemoryStore.refund. Reply: `{ nowMs, policies changed }`.
 */
export const REFUND_SCRIPT = `
local now = tonumber(ARGV[1])
if now == 0 then
  local t = redis.call('TIME')
  now = t[1] * 1000 + math.floor(t[2] / 1000)
end
local at = tonumber(ARGV[2])
if at == 0 then at = now end
local raw = redis.call('GET', KEYS[1])
if not raw then return { now, 0 } end
local h = string.find(raw, ';', 1, true)
local stored = h and tonumber(string.sub(raw, 1, h - 1))
if not stored or stored <= now then return { now, 0 } end
local head = string.sub(raw, 1, h - 1)
local body = string.sub(raw, h)
local n = (#ARGV - 2) / 5
local changed = 0
for i = 1, n do
  local b = (i - 1) * 5 + 2
  local token = ARGV[b + 1]
  local algo = tonumber(ARGV[b + 2])
  local limit = tonumber(ARGV[b + 3])
  local win = tonumber(ARGV[b + 4])
  local cost = tonumber(ARGV[b + 5])
  local s, e = string.find(body, token, 1, true)
  if s and cost > 0 then
    local stop = string.find(body, ';', e + 1, true)
    local v = string.sub(body, e + 1, (stop or 0) - 1)
    local nv = false
    if string.byte(v, 1) ~= 98 then
      if algo == 1 then
        local c = string.find(v, ':', 1, true)
        local start = tonumber(string.sub(v, 1, c - 1))
        local count = tonumber(string.sub(v, c + 1))
        if now < start + win and start <= at then
          count = count - cost
          if count < 0 then count = 0 end
          nv = start .. ':' .. count
        end
      elseif algo == 2 then
        local s1 = string.find(v, ':', 1, true)
        local s2 = string.find(v, ':', s1 + 1, true)
        local sidx = tonumber(string.sub(v, 1, s1 - 1))
        local curr = tonumber(string.sub(v, s1 + 1, s2 - 1))
        local prev = tonumber(string.sub(v, s2 + 1))
        local idx = math.floor(now / win)
        local counted = math.floor(at / win)
        if sidx == idx and counted == idx then
          curr = curr - cost
          if curr < 0 then curr = 0 end
          nv = sidx .. ':' .. curr .. ':' .. prev
        elseif sidx == idx and counted == idx - 1 then
          prev = prev - cost
          if prev < 0 then prev = 0 end
          nv = sidx .. ':' .. curr .. ':' .. prev
        elseif sidx == idx - 1 and counted == sidx then
          curr = curr - cost
          if curr < 0 then curr = 0 end
          nv = sidx .. ':' .. curr .. ':' .. prev
        end
      else
        local tat = tonumber(v)
        if tat > now then
          local step = win / limit
          local back = tat - cost * step
          if back < now then back = now end
          nv = tostring(math.ceil(back))
        end
      end
    end
    if nv then
      if stop then body = string.sub(body, 1, e) .. nv .. string.sub(body, stop)
      else body = string.sub(body, 1, e) .. nv end
      changed = changed + 1
    end
  end
end
if changed > 0 then
  local ttl = redis.call('PTTL', KEYS[1])
  if ttl > 0 then redis.call('SET', KEYS[1], head .. body, 'PX', ttl) end
end
return { now, changed }
`;

/**
 * Forgets a principal's state. ARGV: the `;name=` tokens of the policies to forget; none = the whole key.
 * The entries of other policies and the key's expiry stay. Reply: 1 when something was removed, else 0.
 */
export const RESET_SCRIPT = `
if #ARGV == 0 then return redis.call('DEL', KEYS[1]) end
local raw = redis.call('GET', KEYS[1])
if not raw then return 0 end
local h = string.find(raw, ';', 1, true)
if not h then return redis.call('DEL', KEYS[1]) end
local head = string.sub(raw, 1, h - 1)
local body = string.sub(raw, h)
local removed = 0
for i = 1, #ARGV do
  local s, e = string.find(body, ARGV[i], 1, true)
  if s then
    local stop = string.find(body, ';', e + 1, true)
    if stop then body = string.sub(body, 1, s - 1) .. string.sub(body, stop)
    else body = string.sub(body, 1, s - 1) end
    removed = 1
  end
end
if removed == 0 then return 0 end
if body == '' then return redis.call('DEL', KEYS[1]) end
local ttl = redis.call('PTTL', KEYS[1])
if ttl > 0 then redis.call('SET', KEYS[1], head .. body, 'PX', ttl) else redis.call('DEL', KEYS[1]) end
return 1
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
