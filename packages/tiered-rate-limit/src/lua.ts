import { createHash } from 'node:crypto';

/**
 * One decision over N policies, atomically, in one round trip. All policies of one principal live in
 * ONE key (one GET, one SET however many policies a request has, and trivially one Cluster slot). The
 * script decides every policy and writes only when every policy admits the request (all-or-nothing);
 * a rejection writes nothing except an explicit block marker. Time comes from Redis `TIME` so that
 * instances with skewed clocks agree; tests may pass a fixed time in ARGV[1] (0 = use TIME).
 *
 * KEYS[1]: the principal's state.
 * ARGV: now-override, then per policy: `;name=`, algorithm (1 fixed, 2 sliding, 3 gcra), limit, windowMs, cost, blockMs.
 * Returns: allowed, nowMs, then per policy: remaining, resetMs, retryAfterMs, limited. On a rejection,
 * `remaining` of the admitting policies excludes this request (it consumed nothing).
 *
 * Value: `<end>;name=state;name=state`, where `end` is when the whole key may go (the key's PX too) and
 * state is fixed "start:count", sliding "windowIndex:current:previous", gcra "tat", block "b<untilMs>".
 * Each policy's entry is found and replaced in place (no parsing of the others), and policies absent from
 * a request are kept. Every state carries its own end in time, so a stale entry decides exactly like a
 * missing one and expiry is only garbage collection (1 s past the last end).
 * The GCRA arrival time is stored rounded up to a whole millisecond (exact in both Lua and JS, and never
 * in the caller's favour). This file and memory-store.ts implement the same arithmetic; the contract
 * tests check that both give identical replies.
 */
export const DECIDE_SCRIPT = `
local now = tonumber(ARGV[1])
if now == 0 then
  local t = redis.call('TIME')
  now = t[1] * 1000 + math.floor(t[2] / 1000)
end
local raw = redis.call('GET', KEYS[1])
local last = 0
if raw then
  -- A value this script did not write (or one whose whole key has expired) counts as empty.
  local h = string.find(raw, ';', 1, true)
  local stored = h and tonumber(string.sub(raw, 1, h - 1))
  if stored and stored > now then
    last = stored
  else
    raw = false
  end
end
local n = (#ARGV - 1) / 6
local out = { 1, now }
local nvs, ttls, held = {}, {}, {}
local rejected = false
for i = 1, n do
  local b = (i - 1) * 6 + 1
  local algo = tonumber(ARGV[b + 2])
  local limit = tonumber(ARGV[b + 3])
  local win = tonumber(ARGV[b + 4])
  local cost = tonumber(ARGV[b + 5])
  local v = false
  if raw then
    local _, e = string.find(raw, ARGV[b + 1], 1, true)
    if e then
      local stop = string.find(raw, ';', e + 1, true)
      v = string.sub(raw, e + 1, (stop or 0) - 1)
    end
  end
  local rem, reset, retry, lim = 0, 0, 0, 0
  local nv, ttl = false, 0
  if v and string.byte(v, 1) == 98 then
    local untilMs = tonumber(string.sub(v, 2))
    if untilMs > now then
      reset = untilMs - now
      retry = reset
      lim = 1
      held[i] = true
    end
    v = false
  end
  if lim == 0 then
    if algo == 1 then
      local start, count = now, 0
      if v then
        local s = string.find(v, ':', 1, true)
        start = tonumber(string.sub(v, 1, s - 1))
        count = tonumber(string.sub(v, s + 1))
        if now >= start + win then start, count = now, 0 end
      end
      reset = start + win - now
      if count + cost > limit then
        lim = 1
        rem = limit - count
        retry = reset
      else
        count = count + cost
        rem = limit - count
        nv = start .. ':' .. count
        ttl = reset
      end
    elseif algo == 2 then
      local idx = math.floor(now / win)
      local curr, prev = 0, 0
      if v then
        local s1 = string.find(v, ':', 1, true)
        local s2 = string.find(v, ':', s1 + 1, true)
        local sidx = tonumber(string.sub(v, 1, s1 - 1))
        if sidx == idx then
          curr = tonumber(string.sub(v, s1 + 1, s2 - 1))
          prev = tonumber(string.sub(v, s2 + 1))
        elseif sidx == idx - 1 then
          prev = tonumber(string.sub(v, s1 + 1, s2 - 1))
        end
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
        nv = idx .. ':' .. curr .. ':' .. prev
        ttl = reset + win
      end
    else
      local step = win / limit
      local tat = now
      if v then
        tat = tonumber(v)
        if tat < now then tat = now end
      end
      local newTat = tat + cost * step
      if newTat - now > win then
        lim = 1
        rem = math.floor((win - (tat - now)) / step + 1e-9)
        retry = math.ceil(newTat - now - win)
        reset = math.ceil(tat - now)
      else
        rem = math.floor((win - (newTat - now)) / step + 1e-9)
        reset = math.ceil(newTat - now)
        nv = tostring(math.ceil(newTat))
        ttl = reset
      end
    end
    if rem < 0 then rem = 0 end
  end
  if lim == 1 then rejected = true end
  nvs[i] = nv
  ttls[i] = ttl
  out[#out + 1] = rem
  out[#out + 1] = reset
  out[#out + 1] = retry
  out[#out + 1] = lim
end
local changed = false
if rejected then
  out[1] = 0
  for i = 1, n do
    local b = (i - 1) * 6 + 1
    local o = 2 + (i - 1) * 4
    nvs[i] = false
    if out[o + 4] == 0 then
      out[o + 1] = out[o + 1] + tonumber(ARGV[b + 5])
    end
    local blk = tonumber(ARGV[b + 6])
    if blk > 0 and out[o + 4] == 1 and not held[i] then
      nvs[i] = 'b' .. (now + blk)
      ttls[i] = blk
      out[o + 1] = 0
      out[o + 2] = blk
      out[o + 3] = blk
      changed = true
    end
  end
else
  for i = 1, n do
    if nvs[i] then changed = true end
  end
end
if changed then
  local body = ''
  if raw then
    local h = string.find(raw, ';', 1, true)
    body = string.sub(raw, h)
  end
  for i = 1, n do
    local nv = nvs[i]
    if nv then
      local token = ARGV[(i - 1) * 6 + 2]
      local s, e = string.find(body, token, 1, true)
      if s then
        local stop = string.find(body, ';', e + 1, true)
        if stop then body = string.sub(body, 1, e) .. nv .. string.sub(body, stop)
        else body = string.sub(body, 1, e) .. nv end
      else
        body = body .. token .. nv
      end
      local ttl = math.ceil(ttls[i])
      if ttl < 1 then ttl = 1 end
      if now + ttl + 1000 > last then last = now + ttl + 1000 end
    end
  end
  redis.call('SET', KEYS[1], last .. body, 'PX', last - now)
end
return out
`;

export const DECIDE_SHA = createHash('sha1').update(DECIDE_SCRIPT).digest('hex');

/** Numeric codes of the algorithms in the script's ARGV. */
export const ALGORITHM_CODE = { 'fixed-window': 1, 'sliding-window': 2, gcra: 3 } as const;

// One script call is one instant: the decisions of a batch that use Redis time read `TIME` once between them.
const TIME_READ = `if now == 0 then
  local t = redis.call('TIME')
  now = t[1] * 1000 + math.floor(t[2] / 1000)
end`;
const SHARED_TIME_READ = `if now == 0 then
  if batchNow == 0 then
    local t = redis.call('TIME')
    batchNow = t[1] * 1000 + math.floor(t[2] / 1000)
  end
  now = batchNow
end`;
if (!DECIDE_SCRIPT.includes(TIME_READ)) throw new Error('DECIDE_SCRIPT no longer reads TIME as the batch script expects');

/**
 * Several decisions in one script call: the decisions a process issues in one event-loop tick (different
 * principals, each with its own policies). Each runs the DECIDE_SCRIPT body in turn, atomically as a whole,
 * so every decision is exactly what DECIDE_SCRIPT alone would decide at that instant (Redis `TIME` is read once
 * per call). One command instead of N costs the client one command's encoding and Redis one script invocation
 * and one `TIME`. Not for a Cluster (keys in other slots).
 *
 * KEYS: one principal key per decision. ARGV: per decision, the number of its arguments, then DECIDE_SCRIPT's ARGV.
 * Returns: one DECIDE_SCRIPT reply per decision, in order.
 */
export const DECIDE_BATCH_SCRIPT = `
local batchNow = 0
local function decide(key, argv)
${DECIDE_SCRIPT.replace(TIME_READ, SHARED_TIME_READ).replace(/KEYS\[1\]/g, 'key').replace(/#ARGV/g, '#argv').replace(/ARGV\[/g, 'argv[')}
end
local replies = {}
local i = 1
for k = 1, #KEYS do
  local len = tonumber(ARGV[i])
  local argv = {}
  for j = 1, len do argv[j] = ARGV[i + j] end
  replies[k] = decide(KEYS[k], argv)
  i = i + len + 1
end
return replies
`;

export const DECIDE_BATCH_SHA = createHash('sha1').update(DECIDE_BATCH_SCRIPT).digest('hex');
