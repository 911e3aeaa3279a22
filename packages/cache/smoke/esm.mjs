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
