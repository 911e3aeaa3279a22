import type { Cluster } from 'ioredis';
import { createClient } from 'redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canStartRedisCluster, hasSharedRedis, sharedRedis, startRedisCluster, type PrivateRedisCluster, type SharedRedis } from '@org/test-services';
import { CacheFactoryTimeoutError, CacheSerializationError, createCache, type Cache, type CacheOptions } from '../src/index.js';

// One behavioural contract, run against every mode. Redis-backed modes use the shared Redis
// (isolated by a key prefix) or a private 3-master cluster.
const redisUp = await hasSharedRedis();
const clusterOk = canStartRedisCluster();

interface Mode {
  name: string;
  available: boolean;
  setup(): Promise<void>;
  /** A new cache; caches made with the same `name` share a namespace. */
  make(extra?: CacheOptions, name?: string): Cache;
  teardown(): Promise<void>;
}

// The contract is about behaviour, not deadlines (the fault tests keep the 50 ms default): on a
// loaded CI machine a Redis reply can take longer than 50 ms, which would turn a Redis read into
// a (correct, but here unwanted) memory fallback.
const SLOW_MACHINE_DEADLINE_MS = 1_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let seq = 0;

function sharedMode(name: string, mode: 'fallback' | 'near', client: 'url' | 'node-redis' = 'url'): Mode {
  let redis: SharedRedis;
  const caches: Cache[] = [];
  const clients: ReturnType<typeof createClient>[] = [];
  return {
    name,
    available: redisUp,
    async setup() {
      redis = await sharedRedis(`cache-contract-${mode}`);
    },
    make(extra = {}, name = `c${seq++}`) {
      let given: string | ReturnType<typeof createClient> = redis.url;
      if (client === 'node-redis') {
        // The user's client: the user connects and closes it; the cache only uses it.
        given = createClient({ url: redis.url });
        given.on('error', () => {});
        void given.connect();
        clients.push(given);
      }
      const cache = createCache({ redis: given, mode, prefix: `${redis.prefix}${name}`, ttlJitter: 0, operationTimeoutMs: SLOW_MACHINE_DEADLINE_MS, ...extra });
      caches.push(cache);
      return cache;
    },
    async teardown() {
      await Promise.all(caches.map((c) => c.close()));
      await Promise.all(clients.map((c) => c.close()));
      await redis?.cleanup();
    },
  };
}

const clusterMode = (): Mode => {
  let cluster: PrivateRedisCluster | undefined;
  const clients: Cluster[] = [];
  const caches: Cache[] = [];
  return {
    name: 'redis cluster (injected ioredis Cluster)',
    available: clusterOk,
    async setup() {
      cluster = await startRedisCluster();
    },
    make(extra = {}, name = `cl${seq++}`) {
      const client = cluster!.client();
      client.on('error', () => {});
      clients.push(client);
      const cache = createCache({ redis: client, prefix: name, ttlJitter: 0, operationTimeoutMs: SLOW_MACHINE_DEADLINE_MS, ...extra });
      caches.push(cache);
      return cache;
    },
    async teardown() {
      await Promise.all(caches.map((c) => c.close()));
      for (const c of clients) c.disconnect();
      await cluster?.stop();
    },
  };
};

const modes: Mode[] = [
  { name: 'memory', available: true, setup: async () => {}, make: (extra = {}) => createCache({ ttlJitter: 0, ...extra }), teardown: async () => {} },
  sharedMode('redis (fallback mode)', 'fallback'),
  sharedMode('near-cache', 'near'),
  sharedMode('redis (fallback mode, node-redis client)', 'fallback', 'node-redis'),
  sharedMode('near-cache (node-redis client)', 'near', 'node-redis'),
  clusterMode(),
];

/** Waits until Redis-backed caches are connected, so the contract exercises Redis and not the fallback. */
async function ready(cache: Cache): Promise<Cache> {
  const deadline = Date.now() + 10_000;
  while (cache.stats().redis === 'down' && Date.now() < deadline) await sleep(20);
  expect(cache.stats().redis).not.toBe('down');
  return cache;
}

const sample = () => ({
  date: new Date(1_700_000_000_123),
  big: 12345678901234567890n,
  map: new Map<unknown, unknown>([['a', 1], [2, new Date(0)]]),
  set: new Set([1, 'two', 3n]),
  buffer: Buffer.from('héllo'),
  u8: new Uint8Array([1, 2, 255]),
  f64: new Float64Array([1.5, -0, Number.NaN]),
  nested: { missing: undefined, nan: Number.NaN, inf: -Infinity, negZero: -0 },
  list: [1, undefined, null, 'x'],
  marker: { '\u0000': 'not a tag' },
  text: ':x',
});

for (const mode of modes) {
  describe.skipIf(!mode.available)(`cache contract: ${mode.name}`, () => {
    beforeAll(() => mode.setup(), 60_000);
    afterAll(() => mode.teardown(), 60_000);

    it('returns undefined on a miss and the value after set', async () => {
      const cache = await ready(mode.make());
      expect(await cache.get('nope')).toBeUndefined();
      await cache.set('k', { a: 1, s: 'x' }, 60);
      expect(await cache.get('k')).toEqual({ a: 1, s: 'x' });
      expect(await cache.has('k')).toBe(true);
      expect(await cache.delete('k')).toBe(true);
      expect(await cache.get('k')).toBeUndefined();
      expect(await cache.has('k')).toBe(false);
    });

    it('expires entries after their TTL', async () => {
      const cache = await ready(mode.make());
      await cache.set('short', 1, 0.15);
      expect(await cache.get('short')).toBe(1);
      await sleep(250);
      expect(await cache.get('short')).toBeUndefined();
    });

    it('round-trips the serialization list identically from both tiers', async () => {
      const name = `rt${seq++}`;
      const writer = await ready(mode.make({}, name));
      const reader = await ready(mode.make({}, name));
      await writer.set('v', sample());
      const fromWriter = await writer.get('v');
      expect(fromWriter).toEqual(sample());
      expect(Object.is((fromWriter as ReturnType<typeof sample>).nested.negZero, -0)).toBe(true);
      expect(Buffer.isBuffer((fromWriter as ReturnType<typeof sample>).buffer)).toBe(true);
      expect('missing' in (fromWriter as ReturnType<typeof sample>).nested).toBe(true);
      if (mode.name !== 'memory') {
        // A fresh instance has nothing in memory: this value came from Redis.
        const fromRedis = await reader.get('v');
        expect(fromRedis).toEqual(fromWriter);
        expect(Buffer.isBuffer((fromRedis as ReturnType<typeof sample>).buffer)).toBe(true);
      }
    });

    it('rejects a value it cannot round-trip with a typed error and stores nothing', async () => {
      const cache = await ready(mode.make());
      class Point {
        x = 1;
      }
      for (const bad of [() => 1, { p: new Point() }, Symbol('s'), undefined]) {
        await expect(cache.set('bad', bad)).rejects.toBeInstanceOf(CacheSerializationError);
      }
      const cyclic: Record<string, unknown> = {};
      cyclic.self = cyclic;
      await expect(cache.set('bad', cyclic)).rejects.toMatchObject({ code: 'CACHE_UNSERIALIZABLE' });
      expect(await cache.get('bad')).toBeUndefined();
    });

    it('wrap calls the factory once for concurrent misses and caches the value', async () => {
      const cache = await ready(mode.make());
      let calls = 0;
      const factory = async () => {
        calls++;
        await sleep(30);
        return { n: 42 };
      };
      const results = await Promise.all(Array.from({ length: 100 }, () => cache.wrap('w', factory, 60)));
      expect(calls).toBe(1);
      expect(results.every((r) => r.n === 42)).toBe(true);
      expect(await cache.getOrSet('w', factory)).toEqual({ n: 42 });
      expect(calls).toBe(1);
    });

    it('getMany and setMany', async () => {
      const cache = await ready(mode.make());
      await cache.setMany([
        { key: 'a', value: 1 },
        { key: 'b', value: 'two', options: { ttl: 60 } },
      ]);
      expect(await cache.getMany(['a', 'b', 'c'])).toEqual([1, 'two', undefined]);
    });

    it('deleteByTag deletes exactly the tagged keys', async () => {
      const cache = await ready(mode.make());
      await cache.set('t1', 1, { tags: ['blue'] });
      await cache.set('t2', 2, { tags: ['blue', 'red'] });
      await cache.set('t3', 3, { tags: ['red'] });
      expect(await cache.deleteByTag('blue')).toBe(2);
      expect(await cache.getMany(['t1', 't2', 't3'])).toEqual([undefined, undefined, 3]);
    });

    it('clear() empties its own namespace only', async () => {
      const mine = await ready(mode.make());
      const other = await ready(mode.make());
      await mine.set('k', 1);
      await other.set('k', 2);
      await mine.clear();
      expect(await mine.get('k')).toBeUndefined();
      expect(await other.get('k')).toBe(2);
    });

    it('forTenant scopes keys, clear and stats to the tenant', async () => {
      const cache = await ready(mode.make());
      const a = cache.forTenant('loc-a');
      const b = cache.forTenant('loc-b');
      await a.set('profile', 'A');
      await b.set('profile', 'B');
      await cache.set('profile', 'root');
      expect(await a.get('profile')).toBe('A');
      expect(await b.get('profile')).toBe('B');
      expect(await cache.get('profile')).toBe('root');
      await a.clear();
      expect(await a.get('profile')).toBeUndefined();
      expect(await b.get('profile')).toBe('B');
      expect(await cache.get('profile')).toBe('root');
      const stats = cache.stats();
      expect(stats.tenants['loc-a']!.sets).toBe(1);
      expect(b.stats().tenant).toBe('loc-b');
      expect(b.stats().hits.memory + b.stats().hits.redis).toBe(2);
    });

    it('serves the last value within grace when the factory fails (stale-if-error)', async () => {
      const cache = await ready(mode.make());
      await cache.wrap('g', () => 'v1', { ttl: 0.1, grace: 60 });
      await sleep(200);
      expect(await cache.get('g')).toBeUndefined();
      const stale: unknown[] = [];
      cache.on('stale', (e) => stale.push(e.reason));
      const value = await cache.wrap('g', () => Promise.reject(new Error('upstream down')), { ttl: 60, grace: 60 });
      expect(value).toBe('v1');
      expect(stale).toEqual(['error']);
      expect(cache.stats().staleServes).toBe(1);
      await expect(cache.wrap('no-stale', () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    });

    it('soft timeout returns the stale value and lets the factory finish; hard timeout rejects with a typed error', async () => {
      const cache = await ready(mode.make());
      await cache.wrap('s', () => 'old', { ttl: 0.1, grace: 60 });
      await sleep(200);
      let finished!: () => void;
      const done = new Promise<void>((r) => (finished = r));
      const started = Date.now();
      const value = await cache.wrap('s', async () => {
        await sleep(300);
        finished();
        return 'new';
      }, { ttl: 60, softTimeoutMs: 50 });
      expect(value).toBe('old');
      expect(Date.now() - started).toBeLessThan(250);
      await done;
      await sleep(50);
      expect(await cache.get('s')).toBe('new');
      const error = await cache.wrap('h', () => sleep(500).then(() => 1), { hardTimeoutMs: 50 }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(CacheFactoryTimeoutError);
      expect((error as CacheFactoryTimeoutError).code).toBe('CACHE_FACTORY_TIMEOUT');
    });

    it('refreshAhead serves the cached value and refreshes it in the background, once', async () => {
      const cache = await ready(mode.make({ refreshAhead: 0.5 }));
      let calls = 0;
      const factory = async () => {
        calls++;
        await sleep(20);
        return calls;
      };
      expect(await cache.wrap('ra', factory, 0.6)).toBe(1);
      await sleep(350); // past half of the TTL
      const again = await Promise.all([cache.wrap('ra', factory, 0.6), cache.wrap('ra', factory, 0.6)]);
      expect(again).toEqual([1, 1]);
      const deadline = Date.now() + 2_000;
      while ((await cache.get('ra')) !== 2 && Date.now() < deadline) await sleep(10);
      expect(await cache.get('ra')).toBe(2);
      expect(calls).toBe(2);
    });

    it('reports hits and misses in stats and events', async () => {
      const cache = await ready(mode.make());
      const events: string[] = [];
      const off = cache.on('hit', () => events.push('hit'));
      cache.on('miss', () => events.push('miss'));
      await cache.get('x');
      await cache.set('x', 1);
      await cache.get('x');
      off();
      await cache.get('x');
      expect(events.filter((e) => e === 'hit')).toHaveLength(1);
      const s = cache.stats();
      expect(s.hits.memory + s.hits.redis).toBe(2);
      expect(s.mode).toBe(mode.name === 'memory' ? 'memory' : mode.name.startsWith('near-cache') ? 'near' : 'fallback');
      if (mode.name !== 'memory') expect(s.redis).toBe('up');
    });
  });
}
