// The GHL per-location budget shared through Redis: two limiter instances (as two worker processes would hold) on
// the shared Redis never admit more than `max` requests of one location in any window, together.
import { hasSharedRedis, sharedRedis } from '@org/test-services';
import { describe, expect, it } from 'vitest';
import { RateLimitWaitTooLong } from '../../src/ghl/rate-limiter.js';
import { createRedisGhlRateLimiter } from '../../src/ghl/redis-rate-limiter.js';

const redisUp = await hasSharedRedis();

describe.skipIf(!redisUp)('Redis-shared GHL rate limiter', () => {
  it('two instances share one budget per location: never more than max in a window; other locations unaffected', async () => {
    const redis = await sharedRedis('ghl_limiter');
    try {
      const options = { max: 5, intervalMs: 1500, prefix: redis.prefix };
      const a = createRedisGhlRateLimiter({ ...options, redis: redis.newClient() });
      const b = createRedisGhlRateLimiter({ ...options, redis: redis.newClient() });
      const admitted: number[] = [];
      const start = Date.now();
      await Promise.all(
        Array.from({ length: 12 }, (_, i) =>
          (i % 2 ? a : b).acquire('locX').then(() => admitted.push(Date.now() - start)),
        ),
      );
      admitted.sort((x, y) => x - y);
      expect(admitted).toHaveLength(12);
      // In any window of intervalMs, at most 5 admissions (sliding window across both instances).
      for (let i = 5; i < admitted.length; i++)
        expect(admitted[i]! - admitted[i - 5]!).toBeGreaterThanOrEqual(1500 - 150);
      // Another location has its own budget: admitted at once.
      const t = Date.now();
      await a.acquire('locY');
      expect(Date.now() - t).toBeLessThan(1000);
    } finally {
      await redis.cleanup();
    }
  }, 30_000);

  it("a pause from GHL's headers is shared: the other instance waits too, or refuses when the wait is too long", async () => {
    const redis = await sharedRedis('ghl_limiter_pause');
    try {
      const a = createRedisGhlRateLimiter({ redis: redis.newClient(), prefix: redis.prefix });
      const b = createRedisGhlRateLimiter({ redis: redis.newClient(), prefix: redis.prefix });
      a.pauseUntil('locP', Date.now() + 60_000);
      await new Promise((r) => setTimeout(r, 100));
      await expect(b.acquire('locP', { maxWaitMs: 1000 })).rejects.toBeInstanceOf(RateLimitWaitTooLong);
      await b.acquire('locQ', { maxWaitMs: 1000 });
    } finally {
      await redis.cleanup();
    }
  });
});

describe('Redis-shared GHL rate limiter, Redis unreachable', () => {
  it('falls back to the in-process budget instead of failing GHL calls (no Redis listening: a closed port)', async () => {
    const { Redis } = await import('ioredis');
    const { freePort } = await import('@org/test-services');
    const client = new Redis({
      port: await freePort(),
      host: '127.0.0.1',
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    client.on('error', () => undefined);
    const limiter = createRedisGhlRateLimiter({ redis: client, max: 2, intervalMs: 60_000 });
    await limiter.acquire('loc');
    await limiter.acquire('loc');
    // The fallback still enforces the budget: a third request waits for the window (here: until its caller gives up).
    await expect(limiter.acquire('loc', { signal: AbortSignal.timeout(300) })).rejects.toMatchObject({
      name: 'TimeoutError',
    });
    // And a pause reported by GHL is honoured by the fallback.
    limiter.pauseUntil('other', Date.now() + 60_000);
    await expect(limiter.acquire('other', { maxWaitMs: 10 })).rejects.toBeInstanceOf(RateLimitWaitTooLong);
    client.disconnect();
  });
});
