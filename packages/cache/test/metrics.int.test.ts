import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasSharedRedis, sharedRedis, type SharedRedis } from '@org/test-services';
import { createCache } from '../src/index.js';

const redisUp = await hasSharedRedis();

describe('prom-client metrics (real Registry)', () => {
  it('counts hits and misses per tier and times operations, without keys in labels', async () => {
    const registry = new Registry();
    const cache = createCache({ registry, name: 'unit' });
    await cache.get('secret-key-1');
    await cache.set('secret-key-1', 1);
    await cache.get('secret-key-1');
    await cache.wrap('secret-key-2', () => 2);
    const text = await registry.metrics();
    expect(text).toContain('cache_hits_total{cache="unit",tier="memory"} 1');
    expect(text).toMatch(/cache_misses_total\{cache="unit",tier="memory"\} [12]/);
    expect(text).toMatch(/cache_operation_duration_seconds_count\{cache="unit",operation="get",tier="memory"\} 2/);
    expect(text).toContain('cache_breaker_state');
    expect(text).not.toContain('secret-key');
    // A second cache on the same registry reuses the metrics and is told apart by its label.
    const other = createCache({ registry, name: 'other' });
    await other.get('x');
    expect(await registry.metrics()).toContain('cache_misses_total{cache="other",tier="memory"} 1');
    await cache.close();
    await other.close();
  });

  describe.skipIf(!redisUp)('with Redis', () => {
    let redis: SharedRedis;
    beforeAll(async () => {
      redis = await sharedRedis('cache-metrics');
    });
    afterAll(() => redis?.cleanup());

    it('reports the Redis tier, the breaker and Redis errors', async () => {
      const registry = new Registry();
      const cache = createCache({ redis: redis.url, prefix: `${redis.prefix}m`, registry });
      while (cache.stats().redis !== 'up') await new Promise((r) => setTimeout(r, 10));
      await cache.set('a', 1);
      await cache.get('a');
      await cache.get('b');
      const text = await registry.metrics();
      expect(text).toContain('cache_hits_total{cache="default",tier="redis"} 1');
      expect(text).toContain('cache_misses_total{cache="default",tier="redis"} 1');
      expect(text).toContain('cache_redis_up{cache="default"} 1');
      expect(text).toContain('cache_breaker_state{cache="default"} 0');
      await cache.close();

      const down = createCache({ redis: 'redis://127.0.0.1:1', registry: new Registry(), name: 'down' });
      const errors: string[] = [];
      down.on('error', (e) => errors.push(e.error.code));
      await new Promise((r) => setTimeout(r, 200));
      expect(errors.length).toBeGreaterThan(0);
      expect(down.stats().errors).toBeGreaterThan(0);
      await down.close();
    });
  });
});
