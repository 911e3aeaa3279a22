import assert from 'node:assert/strict';
import {
  createLimiter,
  defaultTiers,
  defineTiers,
  InvalidOptionsError,
  RateLimitError,
  rateLimitHeaders,
  tieredRateLimit,
} from '@org/tiered-rate-limit';

const tiers = defaultTiers();
assert.deepEqual(tiers.names, ['free', 'pro', 'enterprise']);
assert.equal(tiers.get('free').metadata.historyRetentionDays, 7);

const limiter = createLimiter({ tiers });
const first = await limiter.check({ key: 'ip:203.0.113.9', policies: ['general', 'analysis'] });
assert.equal(first.allowed, true);
assert.deepEqual(
  first.policies.map((p) => p.remaining),
  [19, 9],
);
assert.ok(rateLimitHeaders(first).some(([name]) => name === 'RateLimit-Policy'));
assert.deepEqual(
  (await limiter.get('ip:203.0.113.9')).policies.map((p) => p.remaining),
  [19, 9],
);
await limiter.refund({ key: 'ip:203.0.113.9', policies: ['general', 'analysis'] });
assert.deepEqual(
  (await limiter.get('ip:203.0.113.9')).policies.map((p) => p.remaining),
  [20, 10],
);
await limiter.check({ key: 'ip:203.0.113.9' });
await limiter.reset('ip:203.0.113.9');
assert.equal((await limiter.get('ip:203.0.113.9')).policies[0].remaining, 20);
await limiter.close();

const middleware = tieredRateLimit({ tiers, policies: ['general'] });
assert.equal(typeof middleware, 'function');
await middleware.close();

// A node-redis v5 client is accepted; with nothing listening the limiter decides from memory (fallback) at once.
const { createClient } = await import('redis');
const { createServer } = await import('node:net');
const probe = createServer();
await new Promise((r) => probe.listen(0, '127.0.0.1', r));
const port = probe.address().port;
await new Promise((r) => probe.close(r));
const nodeClient = createClient({ url: `redis://127.0.0.1:${port}` });
nodeClient.on('error', () => {});
const viaNodeRedis = createLimiter({ tiers, redis: nodeClient, logger: { warn: () => {} } });
const decided = await viaNodeRedis.check({ key: 'k' });
assert.equal(decided.source, 'fallback');
assert.equal(decided.allowed, true);
await viaNodeRedis.close();

assert.throws(
  () => defineTiers({}),
  (e) => e instanceof InvalidOptionsError && e instanceof RateLimitError && e.code === 'RATE_LIMIT_INVALID_OPTIONS',
);
const { tieredRateLimit: fastifyRateLimit } = await import('@org/tiered-rate-limit/fastify');
const { tieredRateLimit: honoRateLimit } = await import('@org/tiered-rate-limit/hono');
for (const make of [fastifyRateLimit, honoRateLimit]) {
  const adapter = make({ tiers, policies: ['general'] });
  assert.equal(typeof adapter, 'function');
  assert.equal(typeof adapter.limiter.check, 'function');
  await adapter.close();
}
console.log('esm ok');
