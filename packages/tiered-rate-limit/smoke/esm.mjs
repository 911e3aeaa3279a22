import assert from 'node:assert/strict';
import { createLimiter, defaultTiers, defineTiers, InvalidOptionsError, RateLimitError, rateLimitHeaders, tieredRateLimit } from '@org/tiered-rate-limit';

const tiers = defaultTiers();
assert.deepEqual(tiers.names, ['free', 'pro', 'enterprise']);
assert.equal(tiers.get('free').metadata.historyRetentionDays, 7);

const limiter = createLimiter({ tiers });
const first = await limiter.check({ key: 'ip:203.0.113.9', policies: ['general', 'analysis'] });
assert.equal(first.allowed, true);
assert.deepEqual(first.policies.map((p) => p.remaining), [19, 9]);
assert.ok(rateLimitHeaders(first).some(([name]) => name === 'RateLimit-Policy'));
assert.deepEqual((await limiter.get('ip:203.0.113.9')).policies.map((p) => p.remaining), [19, 9]);
await limiter.refund({ key: 'ip:203.0.113.9', policies: ['general', 'analysis'] });
assert.deepEqual((await limiter.get('ip:203.0.113.9')).policies.map((p) => p.remaining), [20, 10]);
await limiter.check({ key: 'ip:203.0.113.9' });
await limiter.reset('ip:203.0.113.9');
assert.equal((await limiter.get('ip:203.0.113.9')).policies[0].remaining, 20);
await limiter.close();

const middleware = tieredRateLimit({ tiers, policies: ['general'] });
assert.equal(typeof middleware, 'function');
await middleware.close();

assert.throws(() => defineTiers({}), (e) => e instanceof InvalidOptionsError && e instanceof RateLimitError && e.code === 'RATE_LIMIT_INVALID_OPTIONS');
console.log('esm ok');
