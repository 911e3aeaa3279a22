import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasSharedRedis, sharedRedis, waitFor, type SharedRedis } from '@org/test-services';
import { createCache, type Cache, type CacheOptions, type CacheStats } from '../src/index.js';

const redisUp = await hasSharedRedis();
if (!redisUp && process.env.CI === 'true') throw new Error('Redis is required under CI');

/** The same script of operations on any cache: every result, in order. */
async function script(cache: Cache): Promise<unknown[]> {
  const out: unknown[] = [];
  out.push(await cache.get('a'));
  await cache.set('a', { n: 1 });
  out.push(await cache.get('a'), await cache.has('a'), await cache.has('b'), cache.peek('a'));
  out.push(await cache.getMany(['a', 'b', 'c']));
  await cache.setMany([
    { key: 'b', value: [1, 2], options: { ttl: 60, tags: ['t'] } },
    { key: 'c', value: 'three', options: { ttl: 60, tags: ['t'] } },
  ]);
  out.push(await cache.wrap('w', () => 'computed'), await cache.wrap('w', () => 'not called'));
  out.push(await cache.wrap('skip', (ctx) => (ctx.skip(), 'skipped')));
  out.push(await cache.wrap('fails', () => Promise.reject(new Error('boom'))).catch((e: Error) => e.message));
  out.push(await cache.delete('a'), await cache.delete('a'), await cache.get('a'));
  out.push(await cache.deleteByTag('t'), await cache.get('b'));
  const tenant = cache.forTenant('acme');
  await tenant.set('a', 'tenant value');
  out.push(await tenant.get('a'), await tenant.get('x'), await tenant.wrap('w', () => 'tenant computed'));
  out.push(await cache.get('a'));
  await tenant.clear();
  out.push(await tenant.get('a'));
  return out;
}

/** Stats without what depends on the connection's timing. */
function comparable(stats: CacheStats): unknown {
  const {
    connection: _connection,
    breaker: _breaker,
    redis: _redis,
    errors: _errors,
    timeouts: _timeouts,
    ...rest
  } = stats;
  return rest;
}

async function compare(options: CacheOptions, readsRedis: boolean, prefix?: string): Promise<void> {
  const registry = new Registry();
  const plain = createCache({ ...options, ttlJitter: 0, ...(prefix ? { prefix: `${prefix}off` } : {}) });
  const measured = createCache({
    ...options,
    ttlJitter: 0,
    registry,
    name: 'measured',
    ...(prefix ? { prefix: `${prefix}on` } : {}),
  });
  try {
    if (readsRedis) {
      // Both caches reach Redis before the script runs: a first connection that is slower for one of them would
      // serve its reads from memory and make the two differ for a reason that is not accounting.
      await waitFor(
        'both caches to reach Redis',
        async () => plain.stats().redis === 'up' && measured.stats().redis === 'up',
        10_000,
        10,
      );
      expect([plain.stats().redis, measured.stats().redis]).toEqual(['up', 'up']);
    }
    const plainResults = await script(plain);
    const measuredResults = await script(measured);
    expect(measuredResults).toEqual(plainResults);
    expect(comparable(measured.stats())).toEqual(comparable(plain.stats()));
    // The metrics count what the stats count (the root's counters include its tenants').
    const stats = measured.stats();
    expect(stats.hits.redis + stats.misses.redis > 0, 'Redis answered some reads').toBe(readsRedis);
    const metrics = await registry.getMetricsAsJSON();
    const value = (name: string, tier: string) =>
      metrics.find((m) => m.name === name)?.values.find((v) => v.labels.tier === tier)?.value ?? 0;
    for (const tier of ['memory', 'redis'] as const) {
      expect(value('cache_hits_total', tier), `hits ${tier}`).toBe(stats.hits[tier]);
      expect(value('cache_misses_total', tier), `misses ${tier}`).toBe(stats.misses[tier]);
    }
    const durations = metrics.find((m) => m.name === 'cache_operation_duration_seconds')!.values;
    const count = (operation: string) =>
      durations
        .filter(
          (v) =>
            v.labels.operation === operation && String((v as { metricName?: string }).metricName).endsWith('_count'),
        )
        .reduce((n, v) => n + v.value, 0);
    // get: 5 on the root (with getMany's 3) and 3 on the tenant, 3 more on the root; set: 1 + 2 (setMany) + 1 (tenant).
    expect(count('get')).toBe(11);
    expect(count('set')).toBe(4);
    // wrap: 5 calls, of which one rejects (a rejected wrap is not timed).
    expect(count('wrap')).toBe(4);
  } finally {
    await plain.close();
    await measured.close();
  }
}

describe('accounting: the same operations give the same results and stats with and without metrics', () => {
  it('memory only', async () => {
    await compare({}, false);
  });

  describe.skipIf(!redisUp)('with Redis', () => {
    let redis: SharedRedis;
    beforeAll(async () => {
      redis = await sharedRedis('cache-accounting');
    });
    afterAll(() => redis?.cleanup());

    it('fallback mode', async () => {
      await compare({ redis: redis.url, operationTimeoutMs: 1_000 }, true, `${redis.prefix}fb`);
    });

    it('near mode', async () => {
      await compare({ redis: redis.url, mode: 'near', operationTimeoutMs: 1_000 }, true, `${redis.prefix}near`);
    });
  });

  it('Redis unreachable (every call served from memory)', async () => {
    await compare({ redis: 'redis://127.0.0.1:1', operationTimeoutMs: 20, connectTimeoutMs: 50 }, false);
  });
});
