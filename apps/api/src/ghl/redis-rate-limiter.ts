import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { createMemoryRateLimiter, RateLimitWaitTooLong, sleep, type GhlRateLimiter } from './rate-limiter.js';

/** Options of {@link createRedisGhlRateLimiter}. */
export interface RedisGhlRateLimiterOptions {
  /** A client owned by the caller (never closed here). */
  redis: Redis;
  /** Requests per window per location, across every process. @default 100 (GHL's burst limit) */
  max?: number;
  /** Window length. @default 10000 */
  intervalMs?: number;
  /** Added to the window (see MemoryRateLimiterOptions.guardMs: GHL counts arrivals, not our admissions). @default 250 */
  guardMs?: number;
  /** Key prefix. @default 'ghl:rl:' */
  prefix?: string;
}

// One sorted set per location (a sliding-window log in Redis time): trims entries older than the window, then either
// records this request (returns 0) or returns how long until the oldest entry leaves the window. A pause set from
// GHL's headers (a plain key with a PX expiry) wins. Atomic, so any number of API and worker processes share it.
const ACQUIRE = `
local now = redis.call('TIME')
local t = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
local pausedUntil = tonumber(redis.call('GET', KEYS[2]) or '0')
if pausedUntil > t then return pausedUntil - t end
local window = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', t - window)
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[1]) then
  redis.call('ZADD', KEYS[1], t, ARGV[3])
  redis.call('PEXPIRE', KEYS[1], window)
  return 0
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return math.max(1, tonumber(oldest[2]) + window - t + 1)
`;

/**
 * GHL's per-location budget (100 requests per 10 s) shared through Redis by every API and worker process, so
 * horizontal workers never exceed it together. Same interface as the in-process limiter.
 */
export function createRedisGhlRateLimiter(options: RedisGhlRateLimiterOptions): GhlRateLimiter {
  const max = options.max ?? 100;
  const guardMs = options.guardMs ?? 250;
  const prefix = options.prefix ?? 'ghl:rl:';
  if (!Number.isInteger(max) || max < 1) throw new RangeError('max must be a positive integer');
  if (!Number.isInteger(options.intervalMs ?? 10_000) || (options.intervalMs ?? 10_000) <= 0)
    throw new RangeError('intervalMs must be a positive integer');
  if (!Number.isInteger(guardMs) || guardMs < 0) throw new RangeError('guardMs must be an integer >= 0');
  const intervalMs = (options.intervalMs ?? 10_000) + guardMs;
  const { redis } = options;
  // While Redis is unreachable this process keeps GHL's budget on its own (fail open, per process), rather than
  // failing every GHL call.
  const fallback = createMemoryRateLimiter({ max, intervalMs, guardMs: 0 });
  // Keys of one location share a hash slot ({...}), so the script also runs on Redis Cluster.
  const keys = (location: string) => [`${prefix}{${location}}:log`, `${prefix}{${location}}:pause`];
  return {
    async acquire(key, acquireOptions = {}) {
      const { signal, maxWaitMs = Infinity } = acquireOptions;
      for (;;) {
        const member = `${Date.now()}-${randomBytes(6).toString('hex')}`;
        let waitMs: number;
        try {
          waitMs = Number(await redis.eval(ACQUIRE, 2, ...keys(key), max, intervalMs, member));
        } catch {
          return fallback.acquire(key, acquireOptions);
        }
        if (waitMs === 0) return;
        if (waitMs > maxWaitMs) throw new RateLimitWaitTooLong(waitMs);
        await sleep(waitMs, signal);
      }
    },
    pauseUntil(key, untilMs) {
      fallback.pauseUntil(key, untilMs);
      const ms = Math.ceil(untilMs - Date.now());
      if (ms <= 0) return;
      // Best effort: a failed write only means this process did not share what GHL told it.
      redis.set(keys(key)[1]!, String(untilMs), 'PX', ms).catch(() => undefined);
    },
  };
}
