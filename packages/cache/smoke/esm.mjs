import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { CacheError, CacheSerializationError, CacheTTL, createCache, defineKeys } from '@org/cache';

const CacheKeys = defineKeys({ workflows: 'workflows:{locationId}' });
const cache = createCache();
await cache.set('key', { at: new Date(0), n: 10n }, CacheTTL.MEDIUM);
assert.deepEqual(await cache.get('key'), { at: new Date(0), n: 10n });
assert.equal(await cache.wrap(CacheKeys.workflows('loc1'), async () => 42, CacheTTL.WORKFLOW), 42);
assert.equal(CacheKeys.workflows('loc1'), 'workflows:{loc1}');
await assert.rejects(cache.set('bad', () => 1), CacheSerializationError);
assert.ok(new CacheSerializationError('x') instanceof CacheError);
await cache.close();

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
console.log('esm ok');
