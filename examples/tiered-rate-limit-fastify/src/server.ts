// @org/tiered-rate-limit in a Fastify 5 app. Run: `pnpm start` (in memory), or with `REDIS_URL=redis://127.0.0.1:6379`
// to share the counters between instances. Try: `curl -i -H 'x-api-key-id: key-free' http://127.0.0.1:3000/api/items`.
import Fastify from 'fastify';
import { Redis } from 'ioredis';
import { defineTiers } from '@org/tiered-rate-limit';
import { tieredRateLimit } from '@org/tiered-rate-limit/fastify';

const tiers = defineTiers({
  free: { policies: { general: { limit: 3, window: '1m' } } },
  pro: { label: 'Pro', policies: { general: { limit: 10, window: '1m' } } },
});

// Stands in for your account store: API key id -> tier. Never key the limiter by the secret itself.
const accounts = new Map([
  ['key-free', 'free'],
  ['key-pro', 'pro'],
]);
const keyOf = (header: string | string[] | undefined) => (typeof header === 'string' ? header : undefined);

const redis = process.env.REDIS_URL ? new Redis(process.env.REDIS_URL) : undefined;
const app = Fastify();
// An onRequest hook on every route of this instance; the health check is skipped (never counted, no headers).
await app.register(
  tieredRateLimit({
    tiers,
    redis,
    prefix: process.env.RATE_LIMIT_PREFIX ?? 'rl:',
    key: (request) => keyOf(request.headers['x-api-key-id']),
    resolveTier: (request) => accounts.get(keyOf(request.headers['x-api-key-id']) ?? '') ?? 'free',
    skip: (request) => request.url === '/health',
  }),
);
app.get('/health', async () => ({ ok: true }));
app.get('/api/items', async () => ({ items: ['a', 'b'] }));

const port = Number(process.env.PORT ?? 3000);
await app.listen({ port, host: process.env.HOST ?? '127.0.0.1' });
console.warn(`listening on http://127.0.0.1:${port}`);

process.on('SIGTERM', () => {
  // fastify.close() also closes the limiter the plugin created; the Redis client is ours to close.
  void app.close().then(() => {
    redis?.disconnect();
    process.exit(0);
  });
});
