import type { Cluster } from 'ioredis';
import { createClient } from 'redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  canStartRedisCluster,
  hasSharedRedis,
  sharedRedis,
  startRedisCluster,
  type PrivateRedisCluster,
  type SharedRedis,
} from '@org/test-services';
import {
  CacheFactoryTimeoutError,
  CacheOptionsError,
  CacheSerializationError,
  createCache,
  type Cache,
  type CacheOptions,
  type CacheSerializer,
  type FactoryContext,
} from '../src/index.js';

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
        // A client passed in: its owner connects and closes it; the cache only uses it.
        given = createClient({ url: redis.url });
        given.on('error', () => {});
        void given.connect();
        clients.push(given);
      }
      const cache = createCache({
        redis: given,
        mode,
        prefix: `${redis.prefix}${name}`,
        ttlJitter: 0,
        operationTimeoutMs: SLOW_MACHINE_DEADLINE_MS,
        ...extra,
      });
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
      const cache = createCache({
        redis: client,
        prefix: name,
        ttlJitter: 0,
        operationTimeoutMs: SLOW_MACHINE_DEADLINE_MS,
        ...extra,
      });
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
  {
    name: 'memory',
    available: true,
    setup: async () => {},
    make: (extra = {}) => createCache({ ttlJitter: 0, ...extra }),
    teardown: async () => {},
  },
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
  map: new Map<unknown, unknown>([
    ['a', 1],
    [2, new Date(0)],
  ]),
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
      const value = await cache.wrap(
        's',
        async () => {
          await sleep(300);
          finished();
          return 'new';
        },
        { ttl: 60, softTimeoutMs: 50 },
      );
      expect(value).toBe('old');
      expect(Date.now() - started).toBeLessThan(250);
      await done;
      await sleep(50);
      expect(await cache.get('s')).toBe('new');
      const error = await cache
        .wrap('h', () => sleep(500).then(() => 1), { hardTimeoutMs: 50 })
        .catch((e: unknown) => e);
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

    it('takes TTLs as seconds or duration strings', async () => {
      const cache = await ready(mode.make());
      // Generous margins: a loaded machine may take a while between two calls.
      await cache.set('ms', 1, '400ms');
      await cache.set('min', 2, '5m');
      await cache.set('obj', 3, { ttl: '1h', grace: '1d' });
      await cache.wrap('w', () => 4, '1d');
      expect(await cache.getMany(['ms', 'min', 'obj', 'w'])).toEqual([1, 2, 3, 4]);
      await sleep(600);
      expect(await cache.getMany(['ms', 'min', 'obj', 'w'])).toEqual([undefined, 2, 3, 4]);
      for (const bad of ['5 minutes', '5M', '-1s', '0s', '1e3s', ' ', 'x'.repeat(100_000)]) {
        await expect(cache.set('bad', 1, bad as never)).rejects.toBeInstanceOf(CacheOptionsError);
      }
    });

    it('refuses a numeric TTL above 30 days (milliseconds by mistake) unless allowLongTtl is set', async () => {
      const cache = await ready(mode.make());
      const oneHourInMs = 3_600_000;
      const error = await cache.set('ms-trap', 1, oneHourInMs).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(CacheOptionsError);
      expect((error as CacheOptionsError).code).toBe('CACHE_INVALID_OPTIONS');
      expect((error as Error).message).toMatch(/seconds, not milliseconds.*'3600s'.*allowLongTtl/);
      let calls = 0;
      await expect(cache.wrap('ms-trap', () => ++calls, { ttl: oneHourInMs })).rejects.toBeInstanceOf(
        CacheOptionsError,
      );
      expect(calls).toBe(0);
      expect(await cache.get('ms-trap')).toBeUndefined();
      // 30 days exactly is fine; longer only when asked for, or written with a unit.
      await cache.set('30d', 1, 30 * 86_400);
      await cache.set('long', 2, { ttl: 90 * 86_400, allowLongTtl: true });
      await cache.set('long-str', 3, '90d');
      expect(await cache.getMany(['30d', 'long', 'long-str'])).toEqual([1, 2, 3]);
      expect(() => mode.make({ defaultTtl: oneHourInMs })).toThrow(CacheOptionsError);
      expect(() => mode.make({ grace: oneHourInMs })).toThrow(/seconds, not milliseconds/);
      await ready(mode.make({ defaultTtl: oneHourInMs, allowLongTtl: true }));
    });

    it('the factory context sets the TTL and tags of the result, or skips caching it', async () => {
      const cache = await ready(mode.make());
      const keys: string[] = [];
      // A token cached for its own lifetime, not the call's TTL.
      expect(await cache.wrap('token', (ctx) => (keys.push(ctx.key), ctx.setTtl('400ms'), 'secret-token'), 60)).toBe(
        'secret-token',
      );
      expect(await cache.get('token')).toBe('secret-token');
      await sleep(600);
      expect(await cache.get('token')).toBeUndefined();
      // Tags known only once the value is fetched.
      await cache.wrap('doc', (ctx) => (ctx.setTags(['owner:7']), { owner: 7 }), { ttl: 60, tags: ['replaced'] });
      expect(await cache.deleteByTag('replaced')).toBe(0);
      expect(await cache.get('doc')).toEqual({ owner: 7 });
      expect(await cache.deleteByTag('owner:7')).toBe(1);
      expect(await cache.get('doc')).toBeUndefined();
      // An empty result goes to the caller but is not cached: the next call asks again.
      let calls = 0;
      const empty = (ctx: FactoryContext<string[]>) => {
        calls++;
        ctx.skip();
        return [];
      };
      expect(await cache.wrap('empty', empty, 60)).toEqual([]);
      expect(await cache.has('empty')).toBe(false);
      expect(await cache.wrap('empty', empty, 60)).toEqual([]);
      expect(calls).toBe(2);
      expect(keys).toEqual(['token']);
      // The same rules as a call's ttl: a factory cannot slip a millisecond TTL through.
      await expect(cache.wrap('bad-ttl', (ctx) => (ctx.setTtl(3_600_000), 1))).rejects.toBeInstanceOf(
        CacheOptionsError,
      );
      expect(await cache.has('bad-ttl')).toBe(false);
      await expect(cache.wrap('bad-tags', (ctx) => (ctx.setTags([''] as string[]), 1))).rejects.toBeInstanceOf(
        CacheOptionsError,
      );
    });

    it('the factory context carries the stale value when grace applies', async () => {
      const cache = await ready(mode.make());
      const seen: FactoryContext<string>['stale'][] = [];
      const factory = (value: string) => (ctx: FactoryContext<string>) => {
        seen.push(ctx.stale);
        return value;
      };
      await cache.wrap('g', factory('v1'), { ttl: 0.1, grace: 60 });
      await sleep(200);
      const before = Date.now();
      expect(await cache.wrap('g', factory('v2'), { ttl: 60, grace: 60 })).toBe('v2');
      expect(seen[0]).toBeUndefined();
      expect(seen[1]?.value).toBe('v1');
      expect(seen[1]!.expiredAt).toBeLessThanOrEqual(before);
      // Without grace, an expired value is gone: no stale value.
      await cache.wrap('ng', factory('x'), { ttl: 0.1 });
      await sleep(200);
      await cache.wrap('ng', factory('y'), 60);
      expect(seen[3]).toBeUndefined();
    });

    it('writes through a custom serializer and reads back through it', async () => {
      const name = `ser${seq++}`;
      const calls = { serialize: 0, deserialize: 0 };
      // A serializer with its own envelope: what Redis holds is its output, not the built-in encoding.
      const serializer: CacheSerializer = {
        serialize: (value) => (calls.serialize++, `v1|${JSON.stringify(value)}`),
        deserialize: (text) => {
          calls.deserialize++;
          if (!text.startsWith('v1|')) throw new Error('not mine');
          return JSON.parse(text.slice(3)) as unknown;
        },
      };
      const writer = await ready(mode.make({ serializer }, name));
      const reader = await ready(mode.make({ serializer }, name));
      await writer.set('k', { a: [1, 'two'] }, 60);
      expect(calls.serialize).toBe(1);
      expect(await writer.get('k')).toEqual({ a: [1, 'two'] });
      if (mode.name !== 'memory') {
        expect(await reader.get('k')).toEqual({ a: [1, 'two'] });
        expect(calls.deserialize).toBeGreaterThanOrEqual(1);
      }
      // The serializer decides what is storable: a class instance it accepts is fine, a throw is a typed error.
      class Point {
        constructor(readonly x: number) {}
      }
      await writer.set('p', new Point(1), 60);
      const refusing = mode.make(
        {
          serializer: {
            serialize: () => {
              throw new Error('nope');
            },
            deserialize: (t) => t,
          },
        },
        name,
      );
      const refused = await refusing.set('r', 1).catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(CacheSerializationError);
      expect((refused as Error).cause).toBeInstanceOf(Error);
      const notText = mode.make({ serializer: { serialize: () => 42 as never, deserialize: (t) => t } }, name);
      await expect(notText.set('r', 1)).rejects.toBeInstanceOf(CacheSerializationError);
      await expect(notText.wrap('r', () => 1)).rejects.toBeInstanceOf(CacheSerializationError);
    });
  });
}
