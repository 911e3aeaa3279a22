// @org/cache in an Express 5 app. Run: `pnpm start` (memory only), or `REDIS_URL=redis://127.0.0.1:6379 pnpm start`.
import express from 'express';
import { createCache } from '@org/cache';

interface User {
  id: string;
  name: string;
  team: string;
}

// Stands in for a database: a slow lookup worth caching.
const users = new Map<string, User>([
  ['1', { id: '1', name: 'Ada', team: 'core' }],
  ['2', { id: '2', name: 'Grace', team: 'core' }],
]);
let lookups = 0;
async function findUser(id: string): Promise<User | undefined> {
  lookups++;
  await new Promise((r) => setTimeout(r, 20));
  return users.get(id);
}

const cache = createCache({
  redis: process.env.REDIS_URL || undefined, // unset: memory only
  prefix: process.env.CACHE_PREFIX ?? 'example',
  defaultTtl: '5m',
  logger: { error: console.error, warn: console.warn, info: console.warn },
});

const app = express();

app.get('/users/:id', async (req, res) => {
  const user = await cache.wrap(
    `user:${req.params.id}`,
    async (ctx) => {
      const found = await findUser(req.params.id);
      if (found === undefined)
        ctx.skip(); // do not cache a miss: the user may be created a second later
      else ctx.setTags([`team:${found.team}`]);
      return found;
    },
    '10m',
  );
  if (user === undefined) {
    res.status(404).json({ error: 'not found' });
    return;
  }
  res.json(user);
});

app.post('/teams/:team/invalidate', async (req, res) => {
  res.json({ deleted: await cache.deleteByTag(`team:${req.params.team}`) });
});

app.get('/stats', (_req, res) => {
  const { redis, factoryCalls, hits, misses } = cache.stats();
  res.json({ redis, factoryCalls, hits, misses, lookups });
});

const port = Number(process.env.PORT ?? 3000);
const server = app.listen(port, process.env.HOST ?? '127.0.0.1', () =>
  console.warn(`listening on http://127.0.0.1:${port}`),
);

process.on('SIGTERM', () => {
  server.close(() => void cache.close().then(() => process.exit(0)));
});
