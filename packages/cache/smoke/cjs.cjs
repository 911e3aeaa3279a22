const assert = require('node:assert/strict');
const { createCache, CacheTTL, defineKeys, CacheError } = require('@org/cache');
const { Registry } = require('prom-client');

(async () => {
  const registry = new Registry();
  const cache = createCache({ registry, maxEntries: 100 });
  const keys = defineKeys({ user: 'user:{locationId}' });
  await cache.set(keys.user('loc1'), new Map([['a', 1]]), CacheTTL.USER);
  assert.deepEqual(await cache.get(keys.user('loc1')), new Map([['a', 1]]));
  assert.match(await registry.metrics(), /cache_hits_total\{cache="default",tier="memory"\} 1/);
  assert.throws(
    () => createCache({ operationTimeoutMs: -1 }),
    (e) => e instanceof CacheError && e.code === 'CACHE_INVALID_OPTIONS',
  );

  const fallback = createCache({ redis: 'redis://127.0.0.1:1' });
  assert.equal(await fallback.wrap('k', () => 'v'), 'v');
  await fallback.close();
  await cache.close();
  const { createKeyvStore } = require('@org/cache/keyv');
  const { Keyv } = require('keyv');
  const under = createCache({});
  const keyv = new Keyv({ store: createKeyvStore(under) });
  await keyv.set('k', [1, 2]);
  assert.deepEqual(await keyv.get('k'), [1, 2]);
  await under.close();
  console.log('cjs ok');
})().catch((error) => {
  console.error(error);
  process.exit(1);
});
