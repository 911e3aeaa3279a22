import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { CacheError, CacheOptionsError, CacheSerializationError, CacheTTL, createCache, defineKeys } from '@org/cache';

const CacheKeys = defineKeys({ workflows: 'workflows:{locationId}' });
const cache = createCache();
await cache.set('key', { at: new Date(0), n: 10n }, CacheTTL.MEDIUM);
assert.deepEqual(await cache.get('key'), { at: new Date(0), n: 10n });
assert.equal(await cache.wrap(CacheKeys.workflows('loc1'), async () => 42, CacheTTL.WORKFLOW), 42);
assert.equal(CacheKeys.workflows('loc1'), 'workflows:{loc1}');
await assert.rejects(
  cache.set('bad', () => 1),
  CacheSerializationError,
);
assert.ok(new CacheSerializationError('x') instanceof CacheError);
// Durations, the millisecond guard and the factory context.
await cache.set('d', 1, '5m');
await assert.rejects(
  cache.set('ms', 1, 3_600_000),
  (e) => e instanceof CacheOptionsError && /not milliseconds/.test(e.message),
);
await cache.set('long', 1, { ttl: 3_600_000, allowLongTtl: true });
assert.deepEqual(await cache.wrap('empty', (ctx) => (ctx.skip(), []), '1h'), []);
assert.equal(await cache.has('empty'), false);
assert.equal(await cache.wrap('tok', (ctx) => (ctx.setTtl('1s'), ctx.setTags(['auth']), 'token')), 'token');
assert.equal(await cache.deleteByTag('auth'), 1);
await cache.close();

// A custom serializer and a logger (Redis unreachable: one warn line).
const lines = [];
const logger = {
  error: (f, m) => lines.push(['error', m]),
  warn: (f, m) => lines.push(['warn', m]),
  info: (f, m) => lines.push(['info', m]),
};
const serializer = { serialize: (v) => `s:${JSON.stringify(v)}`, deserialize: (t) => JSON.parse(t.slice(2)) };
const unreachable = createCache({ redis: 'redis://user:pw-smoke@127.0.0.1:1', logger, serializer });
await new Promise((r) => setTimeout(r, 300));
await unreachable.set('k', { a: 1 });
assert.deepEqual(await unreachable.get('k'), { a: 1 });
assert.deepEqual(
  lines.map(([level]) => level),
  ['warn'],
);
assert.ok(!JSON.stringify(lines).includes('pw-smoke'));
await unreachable.close();

// Against a real Redis (always in CI): the version is detected at connect and tagged writes work.
if (process.env.REDIS_URL || process.env.CI) {
  const seen = [];
  const real = createCache({
    redis: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    prefix: `smoke-${process.pid}`,
    logger: { ...logger, debug: (f) => seen.push(f) },
  });
  for (let i = 0; i < 500 && !seen.some((f) => f.redisVersion); i++) await new Promise((r) => setTimeout(r, 10));
  assert.match(seen.find((f) => f.redisVersion)?.redisVersion ?? '', /^\d+\.\d+/);
  await real.set('t', 1, { ttl: '1m', tags: ['x'] });
  assert.equal(await real.deleteByTag('x'), 1);
  await real.close();
}

// Redis mode loads the optional ioredis peer; with nothing listening the cache answers from memory.
const probe = createServer();
await new Promise((r) => probe.listen(0, '127.0.0.1', r));
const port = probe.address().port;
await new Promise((r) => probe.close(r));
const fallback = createCache({ redis: `redis://127.0.0.1:${port}` });
const started = Date.now();
await fallback.set('k', 'v');
assert.equal(await fallback.get('k'), 'v');
assert.ok(Date.now() - started < 1000);
assert.equal(fallback.stats().redis, 'down');
await fallback.close();
const { createKeyvStore } = await import('@org/cache/keyv');
const { default: Keyv } = await import('keyv');
const { createCache: createCacheManager } = await import('cache-manager');
const under = createCache({});
const manager = createCacheManager({ stores: [new Keyv({ store: createKeyvStore(under) })] });
await manager.set('m', { n: 1 }, 60_000);
assert.deepEqual(await manager.get('m'), { n: 1 });
assert.equal(await under.has('keyv:m'), true);
await under.close();

// A node-redis v5 client is accepted too (the caller connects and closes it); nothing listening: memory answers.
const { createClient } = await import('redis');
const nodeClient = createClient({ url: `redis://127.0.0.1:${port}`, socket: { reconnectStrategy: false } });
nodeClient.on('error', () => {});
nodeClient.connect().catch(() => {});
const viaNodeRedis = createCache({ redis: nodeClient });
const t0 = Date.now();
await viaNodeRedis.set('k', 'v');
assert.equal(await viaNodeRedis.get('k'), 'v');
assert.ok(Date.now() - t0 < 1000);
assert.equal(viaNodeRedis.stats().redis, 'down');
await viaNodeRedis.close();
console.log('esm ok');
