// @org/tiered-rate-limit in a Hono 4 app on @hono/node-server. Run: `pnpm start` (in memory), or with
// `REDIS_URL=redis://127.0.0.1:6379` to share the counters between instances.
// Try: `curl -i -H 'x-api-key-id: key-free' http://127.0.0.1:3000/api/items`.
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { Redis } from 'ioredis';
import { defineTiers } from '@org/tiered-rate-limit';
import { tieredRateLimit } from '@org/tiered-rate-limit/hono';

const tiers = defineTiers({
  free: { policies: { general: { limit: 3, window: '1m' } } },
  pro: { label: 'Pro', policies: { general: { limit: 10, window: '1m' } } },
});

// Stands in for your account store: API key id -> tier. Never key the limiter by the secret itself.
const accounts = new Map([
  ['key-free', 'free'],
  ['key-pro', 'pro'],
]);

const redis = process.env.REDIS_URL ? new Redis(process.env.REDIS_URL) : undefined;
const limiter = tieredRateLimit({
  tiers,
  redis,
  prefix: process.env.RATE_LIMIT_PREFIX ?? 'rl:',
  key: (c) => c.req.header('x-api-key-id'),
  resolveTier: (c) => accounts.get(c.req.header('x-api-key-id') ?? '') ?? 'free',
});

const app = new Hono();
app.get('/health', (c) => c.json({ ok: true })); // before the limiter: never limited
app.use('/api/*', limiter);
app.get('/api/items', (c) => c.json({ items: ['a', 'b'] }));

const port = Number(process.env.PORT ?? 3000);
const server = serve({ fetch: app.fetch, port, hostname: process.env.HOST ?? '127.0.0.1' }, () =>
  console.warn(`listening on http://127.0.0.1:${port}`),
);

process.on('SIGTERM', () => {
  server.close(async () => {
    await limiter.close();
    redis?.disconnect();
    process.exit(0);
  });
});
