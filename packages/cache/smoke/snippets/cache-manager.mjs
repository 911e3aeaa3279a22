import { createCache as createCacheManager } from 'cache-manager';
import Keyv from 'keyv';
import { createCache } from '@org/cache';
import { createKeyvStore } from '@org/cache/keyv';

// @org/cache underneath: Redis when REDIS_URL is set, memory otherwise; never hangs either way.
const cache = createCache({ redis: process.env.REDIS_URL, prefix: 'app:' });
const manager = createCacheManager({ stores: [new Keyv({ store: createKeyvStore(cache) })] });

await manager.set('user:1', { name: 'Ada' }, 60_000); // cache-manager's TTL is in milliseconds
console.log(await manager.get('user:1'));
console.log(await manager.wrap('report:7', async () => 'computed once', 60_000));
await cache.close();
