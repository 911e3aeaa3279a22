// Redis killed under the running app (private redis-server, SIGKILL by pid): the API stays up and ready (degraded),
// /health/detailed and dependency_up say Redis is down, the general rate limit falls back to memory, the analysis
// policy fails closed (503 + Retry-After, documented), and the cache serves from memory.
import { randomBytes } from 'node:crypto';
import {
  canStartRedis,
  hasSharedPostgres,
  sharedPostgres,
  startRedis,
  waitFor,
  type PrivateRedis,
  type SharedPostgres,
} from '@org/test-services';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate } from '../../src/db/migrations.js';
import { TEST_SECRETS, startApp, type App } from '../support/app.js';
import { createAnalysisBudget } from '../../src/jobs/budget.js';
import { HttpError } from '../../src/http/errors.js';

const pgUp = await hasSharedPostgres();
const redisOk = await canStartRedis();
const internal = { authorization: `Bearer ${TEST_SECRETS.internalToken}` };

describe.skipIf(!pgUp || !redisOk)('Redis down (private Redis killed)', () => {
  let pg: SharedPostgres;
  let redis: PrivateRedis;
  let app: App;
  beforeAll(async () => {
    pg = await sharedPostgres('api_redis_fault');
    await migrate({ url: pg.url });
    redis = await startRedis();
    // A 1 s decision deadline: with both cores busy the 30 ms default let the request before the fault be decided
    // in the memory fallback, which then started the outage's count at 1. A dead Redis refuses at once anyway.
    app = await startApp({
      url: pg.url,
      libraries: { redisUrl: redis.url, enableMetrics: true, rateLimitTimeoutMs: 1000 },
    });
    await waitFor('the cache to use Redis', async () => app.libs!.cache.stats().redis === 'up', 10_000);
    const limiter = app.libs!.rateLimit.limiter;
    await waitFor(
      'the rate limiter to decide in Redis',
      async () => (await limiter.check({ key: 'warmup', tier: 'free', policies: ['general'] })).source === 'redis',
      10_000,
    );
  });
  afterAll(async () => {
    await app?.close();
    await redis?.stop();
    await pg?.cleanup();
  });

  it('keeps the API up and ready, reports Redis down, falls back to memory for limits and cache', async () => {
    const cache = app.libs!.cache;
    const key = `probe:${randomBytes(4).toString('hex')}`;
    await cache.set(key, { v: 1 }, 60);
    expect(await redis.ping()).toBe(true);
    // Before the fault the general policy is decided in Redis.
    const before = await fetch(`${app.base}/api/workflows`);
    expect(before.headers.get('x-ratelimit-remaining')).toBe('19');

    await redis.kill();
    expect(await redis.ping(300)).toBe(false);

    // Requests keep being answered; the first ones notice the outage within the libraries' deadlines.
    const statuses: number[] = [];
    const started = performance.now();
    for (let i = 0; i < 25; i++) statuses.push((await fetch(`${app.base}/api/workflows`)).status);
    const elapsed = performance.now() - started;
    // Memory fallback counts from zero when the outage begins: 20 admitted, then 429 again (not 500, not a hang).
    expect(statuses.filter((s) => s === 429).length).toBe(5);
    expect(statuses.slice(20)).toEqual([429, 429, 429, 429, 429]);
    expect(elapsed).toBeLessThan(10_000);

    // The expensive policy fails closed: the analysis budget the analysis routes charge answers 503 with Retry-After,
    // not a silent free-for-all.
    const budget = createAnalysisBudget({ limiter: app.libs!.rateLimit.limiter, users: app.libs!.users });
    const refused = await budget('loc-redis-fault', 1).then(
      () => undefined,
      (error: unknown) => error as HttpError,
    );
    expect(refused).toBeInstanceOf(HttpError);
    expect(refused).toMatchObject({ status: 503, code: 'RATE_LIMIT_UNAVAILABLE' });
    expect(refused!.headers['Retry-After']).toBeTruthy();

    // The cache answers from memory: writes and wrap work, nothing throws.
    await waitFor('the cache to notice', async () => cache.stats().redis === 'down', 5_000);
    let calls = 0;
    const value = await cache.wrap(`${key}:wrap`, () => ({ computed: ++calls }), 60);
    expect(value).toEqual({ computed: 1 });
    expect(await cache.wrap(`${key}:wrap`, () => ({ computed: ++calls }), 60)).toEqual({ computed: 1 });

    // Ready (degraded is documented), /live fine, /health/detailed shows Redis down.
    expect((await fetch(`${app.base}/ready`)).status).toBe(200);
    expect((await fetch(`${app.base}/live`)).status).toBe(200);
    const detailed = (await (await fetch(`${app.base}/health/detailed`, { headers: internal })).json()) as Record<
      string,
      unknown
    >;
    expect(detailed).toMatchObject({
      status: 'degraded',
      redis: { status: 'down' },
      cache: { redis: 'down' },
      database: { status: 'up' },
    });
    const metrics = await (await fetch(`${app.base}/metrics`)).text();
    expect(metrics).toMatch(/^dependency_up\{dependency="redis"\} 0$/m);
    expect(metrics).toMatch(/^dependency_up\{dependency="postgres"\} 1$/m);
    expect(metrics).toMatch(/^cache_redis_up\{cache="api"\} 0$/m);

    // Redis comes back: both libraries return to it.
    await redis.restart();
    await waitFor('the cache to use Redis again', async () => cache.stats().redis === 'up', 10_000);
    const detailedAfter = (await (await fetch(`${app.base}/health/detailed`, { headers: internal })).json()) as Record<
      string,
      unknown
    >;
    expect(detailedAfter).toMatchObject({ status: 'ok', redis: { status: 'up' } });
  }, 60_000);
});
