const assert = require('node:assert/strict');
const { createLimiter, defaultTiers, tieredRateLimit, RateLimitError } = require('@org/tiered-rate-limit');

(async () => {
  const limiter = createLimiter({ tiers: defaultTiers() });
  const decisions = [];
  for (let i = 0; i < 21; i++) decisions.push(await limiter.check({ key: 'acct-1' }));
  assert.equal(decisions.filter((d) => d.allowed).length, 20);
  assert.equal(decisions[20].outcome, 'limited');
  await limiter.close();
  const middleware = tieredRateLimit({ tiers: defaultTiers() });
  assert.equal(typeof middleware, 'function');
  await middleware.close();
  assert.equal(new RateLimitError('boom').code, 'RATE_LIMIT_ERROR');
  for (const sub of ['fastify', 'hono']) {
    const adapter = require(`@org/tiered-rate-limit/${sub}`).tieredRateLimit({ tiers: defaultTiers() });
    assert.equal(typeof adapter, 'function');
    await adapter.close();
  }
  console.log('cjs ok');
})();
