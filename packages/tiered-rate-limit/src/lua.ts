import { createHash } from 'node:crypto';

/**
 * One decision over N policies, atomically, in one round trip. Each policy of a principal has its own
 * small HASH, `<prefix>v2:{<principal>}:<policy>` (the hash tag keeps a principal's policies in one Cluster
 * slot), so a one-policy decision touches one key and no other policy's state is read or rewritten.
 * The script decides every policy and writes only when every policy admits the request (all-or-nothing);
 * a rejection writes nothing except an explicit block marker. Time comes from Redis `TIME` (read once per
 * script call) so that instances with skewed clocks agree; tests may pass a fixed time (0 = use TIME).
 *
 * Fields: `b` block until (ms), `s` fixed window start | sliding window index | GCRA arrival time,
 * `c` fixed count | sliding current count, `p` sliding previous count. Within one window the common
 * write is a single `HINCRBY` (the key's expiry was set when the window began); a new window or a GCRA
 * step rewrites `s`/`c`/`p` with `HSET` and sets the key's expiry. A block deletes the state and keeps
 * only `b`. Every state carries its own end in time, so a stale state decides exactly like a missing one
 * and expiry is only garbage collection (1 s past the state's end). The GCRA arrival time is stored rounded
 * up to a whole millisecond (exact in both Lua and JS, and never in the caller's favour). This file and
 * memory-store.ts implement the same arithmetic; the contract tests check that both give identical replies.
 *
 * decide(ko, ao, n, now): the policy keys are KEYS[ko + 1 .. ko + n]; per policy 5 numbers from ARGV[ao + 1]:
 * algorithm (1 fixed, 2 sliding, 3 gcra), limit, windowMs, cost, blockMs.
 * Returns: allowed, nowMs, then per policy: remaining, resetMs, retryAfterMs, limited. On a rejection,
 * `remaining` of the admitting policies excludes this request (it consumed nothing).
 */
const DECIDE_FUNCTION = `
-- Scratch of the decision in progress, 7 slots per policy (one table, sized for one policy, reused across
-- the decisions of a batch, every slot rewritten): write kind (0 none, 1 HINCRBY c, 2 HSET s c, 3 HSET s c p,
-- 4 HSET s), its values a/b/c, the key's new expiry, held by a block, foreign value.
local m = { 0, 0, 0, 0, 0, false, false }
local function decide(ko, ao, n, now)
  local out = { 1, now, 0, 0, 0, 0 }
  local rejected = false
  for i = 1, n do
    local b = ao + (i - 1) * 5
    local algo = tonumber(ARGV[b + 1])
    local limit = tonumber(ARGV[b + 2])
    local win = tonumber(ARGV[b + 3])
    local cost = tonumber(ARGV[b + 4])
    local j = (i - 1) * 7
    local h = redis.pcall('HMGET', KEYS[ko + i], 'b', 's', 'c', 'p')
    m[j + 7] = false
    if h.err then
      -- A value this script did not write (another type at the same name) counts as empty and is replaced.
      h = {}
      m[j + 7] = true
    end
    m[j + 6] = false
    local rem, reset, retry, lim = 0, 0, 0, 0
    local w, ttl = 0, 0
    local untilMs = tonumber(h[1])
    if untilMs and untilMs > now then
      reset = untilMs - now
      retry = reset
      lim = 1
      m[j + 6] = true
    else
      local s = tonumber(h[2])
      if algo == 1 then
        local start, count, same = now, 0, false
        if s and now < s + win then
          start = s
          count = tonumber(h[3]) or 0
          same = true
        end
        reset = start + win - now
        if count + cost > limit then
          lim = 1
          rem = limit - count
          retry = reset
        else
          count = count + cost
          rem = limit - count
          if same then
            w, m[j + 2] = 1, cost
          else
            w, m[j + 2], m[j + 3] = 2, start, count
          end
          ttl = reset
        end
      elseif algo == 2 then
        local idx = math.floor(now / win)
        local curr, prev, same = 0, 0, false
        if s == idx then
          curr = tonumber(h[3]) or 0
          prev = tonumber(h[4]) or 0
          same = true
        elseif s == idx - 1 then
          prev = tonumber(h[3]) or 0
        end
        local elapsed = now - idx * win
        local est = prev * (win - elapsed) / win + curr
        reset = win - elapsed
        if est + cost > limit then
          lim = 1
          rem = math.floor(limit - est)
          local need = limit - cost
          if need < 0 then
            retry = reset + win
          elseif curr <= need then
            retry = math.ceil(win * (1 - (need - curr) / prev) - elapsed)
          else
            retry = math.ceil(reset + win * (1 - need / curr))
          end
          if retry < 1 then retry = 1 end
        else
          curr = curr + cost
          rem = math.floor(limit - est - cost)
          if same then
            w, m[j + 2] = 1, cost
          else
            w, m[j + 2], m[j + 3], m[j + 4] = 3, idx, curr, prev
          end
          ttl = reset + win
        end
      else
        local step = win / limit
        local tat = now
        if s and s > now then tat = s end
        local newTat = tat + cost * step
        if newTat - now > win then
          lim = 1
          rem = math.floor((win - (tat - now)) / step + 1e-9)
          retry = math.ceil(newTat - now - win)
          reset = math.ceil(tat - now)
        else
          rem = math.floor((win - (newTat - now)) / step + 1e-9)
          reset = math.ceil(newTat - now)
          w, m[j + 2] = 4, math.ceil(newTat)
          ttl = reset
        end
      end
      if rem < 0 then rem = 0 end
    end
    if lim == 1 then rejected = true end
    m[j + 1] = w
    m[j + 5] = ttl
    local o = 2 + (i - 1) * 4
    out[o + 1] = rem
    out[o + 2] = reset
    out[o + 3] = retry
    out[o + 4] = lim
  end
  if rejected then
    out[1] = 0
    for i = 1, n do
      local b = ao + (i - 1) * 5
      local o = 2 + (i - 1) * 4
      if out[o + 4] == 0 then
        out[o + 1] = out[o + 1] + tonumber(ARGV[b + 4])
      end
      local blk = tonumber(ARGV[b + 5])
      if blk > 0 and out[o + 4] == 1 and not m[(i - 1) * 7 + 6] then
        local key = KEYS[ko + i]
        redis.call('DEL', key)
        redis.call('HSET', key, 'b', now + blk)
        redis.call('PEXPIRE', key, blk + 1000)
        out[o + 1] = 0
        out[o + 2] = blk
        out[o + 3] = blk
      end
    end
  else
    for i = 1, n do
      local j = (i - 1) * 7
      local w = m[j + 1]
      if w > 0 then
        local key = KEYS[ko + i]
        if m[j + 7] then redis.call('DEL', key) end
        if w == 1 then
          redis.call('HINCRBY', key, 'c', m[j + 2])
        else
          if w == 2 then
            redis.call('HSET', key, 's', m[j + 2], 'c', m[j + 3])
          elseif w == 3 then
            redis.call('HSET', key, 's', m[j + 2], 'c', m[j + 3], 'p', m[j + 4])
          else
            redis.call('HSET', key, 's', m[j + 2])
          end
          local ttl = math.ceil(m[j + 5])
          if ttl < 1 then ttl = 1 end
          redis.call('PEXPIRE', key, ttl + 1000)
        end
      end
    end
  end
  return out
end
`;

const TIME_READ = `local t = redis.call('TIME')
  now = t[1] * 1000 + math.floor(t[2] / 1000)`;

/**
 * One decision. KEYS: the principal's policy keys, in policy order. ARGV: the now-override (0 = Redis
 * `TIME`), then 5 numbers per policy. Reply: see DECIDE_FUNCTION.
 */
export const DECIDE_SCRIPT = `${DECIDE_FUNCTION}
local now = tonumber(ARGV[1])
if now == 0 then
  ${TIME_READ}
end
return decide(0, 1, #KEYS, now)
`;

export const DECIDE_SHA = createHash('sha1').update(DECIDE_SCRIPT).digest('hex');

/** Numeric codes of the algorithms in the script's ARGV. */
export const ALGORITHM_CODE = { 'fixed-window': 1, 'sliding-window': 2, gcra: 3 } as const;

/**
 * Several decisions in one script call: the decisions a process issues in one event-loop turn (different
 * principals, each with its own policies), decided in turn, atomically as a whole, so every decision is
 * exactly what DECIDE_SCRIPT alone would decide at that instant (Redis `TIME` is read at most once per
 * call). One command instead of N costs the client one command's encoding and Redis one script invocation
 * and one `TIME`. Not for a Cluster (keys in other slots).
 *
 * KEYS: every decision's policy keys, one decision after the other. ARGV: per decision, its number of
 * policies n, its now-override, then 5n numbers. Returns: one DECIDE_SCRIPT reply per decision, in order.
 */
export const DECIDE_BATCH_SCRIPT = `${DECIDE_FUNCTION}
local shared = 0
local replies = {}
local ko, a = 0, 1
while a <= #ARGV do
  local n = tonumber(ARGV[a])
  local now = tonumber(ARGV[a + 1])
  if now == 0 then
    if shared == 0 then
      ${TIME_READ.replace('now =', 'shared =')}
    end
    now = shared
  end
  replies[#replies + 1] = decide(ko, a + 1, n, now)
  ko = ko + n
  a = a + 2 + 5 * n
end
return replies
`;

export const DECIDE_BATCH_SHA = createHash('sha1').update(DECIDE_BATCH_SCRIPT).digest('hex');
