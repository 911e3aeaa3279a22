import { createCache as createCacheManager } from 'cache-manager';
import { Cacheable } from 'cacheable';
import Keyv from 'keyv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasSharedRedis, sharedRedis, type SharedRedis } from '@org/test-services';
import { createCache, type Cache } from '../src/index.js';
import { createKeyvStore } from '../src/keyv/index.js';

// The Keyv adapter under the real Keyv, cache-manager and cacheable, over a memory-only cache and a
// cache on the shared Redis: what those libraries' users get when @org/cache is their store.
const redisUp = await hasSharedRedis();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Mode {
  name: string;
  available: boolean;
  make(): Cache;
}

let shared: SharedRedis | undefined;
const caches: Cache[] = [];
let seq = 0;
const modes: Mode[] = [
  { name: 'memory', available: true, make: () => createCache({ ttlJitter: 0 }) },
  {
    name: 'shared Redis',
    available: redisUp,
    make: () =>
      createCache({
        redis: shared!.url,
        mode: 'fallback',
        prefix: `${shared!.prefix}k${seq++}`,
        ttlJitter: 0,
        operationTimeoutMs: 1_000,
      }),
  },
];

beforeAll(async () => {
  if (redisUp) shared = await sharedRedis('cache-keyv');
});
afterAll(async () => {
  for (const c of caches) await c.close();
  await shared?.cleanup();
});

describe.each(modes)('createKeyvStore over a $name cache', (mode) => {
  const make = () => {
    const cache = mode.make();
    caches.push(cache);
    return cache;
  };

  it.skipIf(!mode.available)(
    'Keyv: set/get/has/delete/clear, values round-trip, getMany and deleteMany, the TTL expires the entry',
    async () => {
      const cache = make();
      const keyv = new Keyv({ store: createKeyvStore(cache), namespace: 'app' });
      await keyv.set('user:1', { name: 'Ada', roles: ['admin'] });
      expect(await keyv.get('user:1')).toEqual({ name: 'Ada', roles: ['admin'] });
      expect(await keyv.has('user:1')).toBe(true);
      // Keyv prefixes its namespace; the cache holds the key as given.
      expect(await cache.has('app:user:1')).toBe(true);
      await keyv.set('user:2', 2);
      expect(await keyv.get(['user:1', 'user:2', 'user:3'])).toEqual([{ name: 'Ada', roles: ['admin'] }, 2, undefined]);
      expect(await keyv.delete('user:2')).toBe(true);
      expect(await keyv.get('user:2')).toBeUndefined();
      await keyv.set('short', 'x', 1_100);
      expect(await keyv.get('short')).toBe('x');
      await sleep(2_300);
      expect(await keyv.get('short')).toBeUndefined();
      await keyv.clear();
      expect(await keyv.get('user:1')).toBeUndefined();
    },
  );

  it.skipIf(!mode.available)('cache-manager: set/get/del, wrap calls the function once, mget', async () => {
    const cache = make();
    const manager = createCacheManager({ stores: [new Keyv({ store: createKeyvStore(cache) })] });
    await manager.set('a', { n: 1 }, 60_000);
    expect(await manager.get('a')).toEqual({ n: 1 });
    let calls = 0;
    const compute = async () => {
      calls++;
      return 'computed';
    };
    expect(await manager.wrap('w', compute, 60_000)).toBe('computed');
    expect(await manager.wrap('w', compute, 60_000)).toBe('computed');
    expect(calls).toBe(1);
    expect(await manager.mget(['a', 'w', 'none'])).toEqual([{ n: 1 }, 'computed', undefined]);
    await manager.del('a');
    expect(await manager.get('a')).toBeUndefined();
  });

  it.skipIf(!mode.available)('cacheable: the store as the secondary tier serves a value the primary lost', async () => {
    const cache = make();
    const cacheable = new Cacheable({ secondary: new Keyv({ store: createKeyvStore(cache) }) });
    await cacheable.set('k', { v: 42 }, '1m');
    await cacheable.primary.delete('k');
    expect(await cacheable.get('k')).toEqual({ v: 42 });
  });
});

describe('createKeyvStore options', () => {
  it('refuses something that is not a cache and a bad defaultTtl, with CACHE_INVALID_OPTIONS', () => {
    expect(() => createKeyvStore({} as Cache)).toThrow(expect.objectContaining({ code: 'CACHE_INVALID_OPTIONS' }));
    const cache = createCache({ ttlJitter: 0 });
    caches.push(cache);
    expect(() => createKeyvStore(cache, { defaultTtl: -1 })).toThrow(
      expect.objectContaining({ code: 'CACHE_INVALID_OPTIONS' }),
    );
  });
});
