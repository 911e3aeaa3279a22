// @org/cache under cache-manager, through its Keyv store, in an Express 5 app. Run: `pnpm start` (memory only), or
// `REDIS_URL=redis://127.0.0.1:6379 pnpm start`. Try: `curl http://127.0.0.1:3000/users/1` twice, then `/stats`.
import { createCache as createCacheManager } from 'cache-manager';
import express from 'express';
import Keyv from 'keyv';
import { createCache } from '@org/cache';
import { createKeyvStore } from '@org/cache/keyv';

interface User {
  id: string;
  name: string;
}

// Stands in for a database: a slow lookup worth caching.
const users = new Map<string, User>([
  ['1', { id: '1', name: 'Ada' }],
  ['2', { id: '2', name: 'Grace' }],
]);
let lookups = 0;
async function findUser(id: string): Promise<User | null> {
  lookups++;
  await new Promise((r) => setTimeout(r, 20));
  return users.get(id) ?? null;
}

// @org/cache underneath (Redis tier, memory fallback, deadlines); cache-manager's API on top. Keyv gets a cache of its own.
const cache = createCache({
  redis: process.env.REDIS_URL || undefined, // unset: memory only
  prefix: process.env.CACHE_PREFIX ?? 'example',
  defaultTtl: '5m',
  logger: { error: console.error, warn: console.warn, info: console.warn },
});
const manager = createCacheManager({ stores: [new Keyv({ store: createKeyvStore(cache) })] });

const app = express();

app.get('/users/:id', async (req, res) => {
  // cache-manager's TTLs are milliseconds: a user for 10 minutes, a miss for 5 seconds.
  const user = await manager.wrap(
    `user:${req.params.id}`,
    () => findUser(req.params.id),
    (found) => (found ? 600_000 : 5_000),
  );
  if (user === null) {
    res.status(404).json({ error: 'not found' });
    return;
  }
  res.json(user);
});

app.delete('/users/:id/cache', async (req, res) => {
  res.json({ deleted: await manager.del(`user:${req.params.id}`) });
});

app.get('/stats', (_req, res) => {
  const { redis, hits } = cache.stats();
  res.json({ redis, hits: hits.memory + hits.redis, lookups });
});

const port = Number(process.env.PORT ?? 3000);
const server = app.listen(port, process.env.HOST ?? '127.0.0.1', () =>
  console.warn(`listening on http://127.0.0.1:${port}`),
);

process.on('SIGTERM', () => {
  // The Keyv store never closes the cache it was given: the cache is ours to close.
  server.close(() => void cache.close().then(() => process.exit(0)));
});
