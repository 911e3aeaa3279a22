// The four @org libraries wired into the real app (createApp + createLibraries, as main.ts does), over real HTTP,
// against the machine's PostgreSQL and Redis: the documented rate-limit check, tier resolution through the cached user
// record, /metrics, /internal/cache-stats and /health/detailed.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  hasSharedPostgres,
  hasSharedRedis,
  sharedPostgres,
  sharedRedis,
  waitFor,
  type SharedPostgres,
  type SharedRedis,
} from '@org/test-services';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSessionStore, sessionCookie } from '../../src/auth/sessions.js';
import { CacheKeys } from '../../src/cache/keys.js';
import { migrate } from '../../src/db/migrations.js';
import { TEST_SECRETS, seedTenant, startApp, type App } from '../support/app.js';

const pgUp = await hasSharedPostgres();
const redisUp = await hasSharedRedis();
const run = promisify(execFile);

const internal = { authorization: `Bearer ${TEST_SECRETS.internalToken}` };

async function hits(url: string, n: number, init: RequestInit = {}) {
  const out: { status: number; body: unknown; headers: Headers }[] = [];
  for (let i = 0; i < n; i++) {
    const res = await fetch(url, init);
    const text = await res.text();
    out.push({ status: res.status, body: text ? JSON.parse(text) : undefined, headers: res.headers });
  }
  return out;
}

describe.skipIf(!pgUp || !redisUp)('library wiring (shared PostgreSQL and Redis)', () => {
  let pg: SharedPostgres;
  let redis: SharedRedis;
  const apps: App[] = [];
  /** A fresh app with its own Redis prefixes, so each check starts from zero counters. */
  const start = async (options: { isProduction?: boolean; redis?: boolean } = {}) => {
    const tag = randomBytes(3).toString('hex');
    const app = await startApp({
      url: pg.url,
      isProduction: options.isProduction,
      libraries: {
        redisUrl: options.redis === false ? undefined : redis.url,
        enableMetrics: true,
        // The counting checks are about the limits, not the 30 ms Redis deadline: with both cores busy a decision can
        // miss it and fall back to a fresh memory counter, which let a 21st request through.
        rateLimitTimeoutMs: 1000,
        prefixes: { cache: `${redis.prefix}c${tag}`, rateLimit: `${redis.prefix}rl${tag}:` },
      },
    });
    apps.push(app);
    if (options.redis !== false) {
      // Decisions made before the limiter's connection is up are counted in its memory fallback (by design: no
      // request waits for Redis); the checks below want every decision in Redis, so wait for the connection.
      const limiter = app.libs!.rateLimit.limiter;
      await waitFor(
        'the rate limiter to decide in Redis',
        async () =>
          (await limiter.check({ key: `warmup-${tag}`, tier: 'free', policies: ['general'] })).source === 'redis',
        10_000,
      );
      await waitFor('the cache to use Redis', async () => app.libs!.cache.stats().redis === 'up', 10_000);
    }
    return app;
  };

  beforeAll(async () => {
    pg = await sharedPostgres('api_wiring');
    redis = await sharedRedis('api_wiring');
    await migrate({ url: pg.url });
  });
  afterAll(async () => {
    for (const app of apps) await app.close();
    const all = apps.map((a) => a.logs.text()).join('\n');
    for (const secret of Object.values(TEST_SECRETS)) expect(all).not.toContain(secret);
    await redis?.cleanup();
    await pg?.cleanup();
  });

  describe('rate limit: the documented check with plain requests and no cookie', () => {
    it('25 x GET /api/workflows: requests 21-25 get 429 with the documented body and its requestId (not 401), keyed by IP as the free tier', async () => {
      const app = await start();
      const res = await hits(`${app.base}/api/workflows`, 25);
      for (const r of res.slice(0, 20)) {
        expect(r.status).not.toBe(429);
        expect(r.headers.get('x-ratelimit-tier')).toBe('free');
      }
      for (const r of res.slice(20)) {
        expect(r.status).toBe(429);
        const retryAfter = Number(r.headers.get('retry-after'));
        expect(retryAfter).toBeGreaterThanOrEqual(1);
        expect(retryAfter).toBeLessThanOrEqual(60);
        expect(r.body).toEqual({
          success: false,
          error: {
            message: 'Free tier rate limit exceeded. Upgrade to Pro for higher limits.',
            code: 'RATE_LIMIT_EXCEEDED',
            retryAfter,
            currentTier: 'free',
            upgradeUrl: '/api/subscription/checkout',
            limits: { current: 20, pro: 100 },
            requestId: r.headers.get('x-request-id'),
          },
        });
      }
      // The counters live in Redis under the app's prefix, keyed by the client IP.
      const keys = await redis.client.keys(`${redis.prefix}rl*`);
      expect(keys.some((k) => k.includes('{ip:127.0.0.1}'))).toBe(true);
    });

    it('12 x POST /api/analyze without a credential: never an analysis-policy 429 (the analyze route charges the location it analyses for)', async () => {
      const app = await start();
      const res = await hits(`${app.base}/api/analyze`, 12, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"workflowId":"wf-1"}',
      });
      for (const r of res) expect(r.status).not.toBe(429);
    });

    it('an authenticated caller is limited by its tier, read through the cached user record and re-read after invalidation', async () => {
      const app = await start();
      const { accountId, locationId } = await seedTenant(app.db, `loc-rl-${randomBytes(3).toString('hex')}`);
      await app.db.query(
        "INSERT INTO stripe_customers (location_id, customer_id, status, tier) VALUES ($1, 'cus_1', 'active', 'pro')",
        [locationId],
      );
      const cookie = `${sessionCookie(false).name}=${encodeURIComponent(await createSessionStore(app.db, TEST_SECRETS.sessionSecret).create(accountId, locationId, 60_000))}`;
      const me = () => fetch(`${app.base}/api/me`, { headers: { cookie } });
      let res = await me();
      expect(res.status).toBe(200);
      expect(res.headers.get('x-ratelimit-tier')).toBe('pro');
      expect(res.headers.get('x-ratelimit-limit')).toBe('100');
      // Cached for 15 minutes under user:{locationId}: a tier change in the database alone is not seen...
      const cached = await redis.client.keys(`${redis.prefix}c*`);
      expect(cached.some((k) => k.includes(CacheKeys.user(locationId)))).toBe(true);
      await app.db.query("UPDATE stripe_customers SET tier = 'enterprise' WHERE location_id = $1", [locationId]);
      res = await me();
      expect(res.headers.get('x-ratelimit-tier')).toBe('pro');
      // ...until the tier-change hook invalidates the record: the next request gets the new limits, counters kept.
      await app.libs!.users.invalidate(locationId);
      res = await me();
      expect(res.headers.get('x-ratelimit-tier')).toBe('enterprise');
      expect(res.headers.get('x-ratelimit-limit')).toBe('500');
      expect(Number(res.headers.get('x-ratelimit-remaining'))).toBe(500 - 3);
      // The anonymous (IP) counter was not touched by the authenticated requests.
      const anon = await fetch(`${app.base}/api/me`);
      expect(anon.status).toBe(401);
      expect(anon.headers.get('x-ratelimit-remaining')).toBe('19');
    });

    it('without REDIS_URL the limiter counts in memory with the same answers', async () => {
      const app = await start({ redis: false });
      const res = await hits(`${app.base}/api/workflows`, 21);
      expect(res.slice(0, 20).every((r) => r.status !== 429)).toBe(true);
      expect(res[20]!.status).toBe(429);
    });
  });

  describe('/metrics', () => {
    it('negotiates OpenMetrics and the Prometheus text format, with runtime, HTTP, database, dependency, cache and business metrics', async () => {
      const app = await start();
      await waitFor('the cache to connect to Redis', async () => app.libs!.cache.stats().redis === 'up', 10_000);
      await fetch(`${app.base}/api/me`);
      await fetch(`${app.base}/health/detailed`, { headers: internal });
      const om = await fetch(`${app.base}/metrics`, {
        headers: { accept: 'application/openmetrics-text; version=1.0.0' },
      });
      expect(om.status).toBe(200);
      expect(om.headers.get('content-type')).toMatch(/^application\/openmetrics-text/);
      expect((await om.text()).trimEnd().endsWith('# EOF')).toBe(true);
      const res = await fetch(`${app.base}/metrics`);
      expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
      const text = await res.text();
      expect(text).not.toContain('# EOF');
      for (const family of [
        'process_cpu_seconds_total',
        'nodejs_heap_size_used_bytes',
        'http_request_duration_seconds',
        'database_query_duration_seconds',
        'database_connections_idle',
        'cache_redis_up',
        'workflow_analysis_total',
        'workflow_analysis_duration_seconds',
        'workflow_health_score',
        'workflow_issues_found_total',
        'active_users',
        'subscription_events_total',
        'rate_limit_exceeded_total',
      ]) {
        expect(text, family).toMatch(new RegExp(`^# (HELP|TYPE) ${family} `, 'm'));
      }
      expect(text).toMatch(/^http_requests_total\{method="GET",route="\/api\/me",status_code="401"\} 1$/m);
      expect(text).toMatch(/^dependency_up\{dependency="postgres"\} 1$/m);
      expect(text).toMatch(/^dependency_up\{dependency="redis"\} 1$/m);
    });

    it('after requests with random ids and unknown paths, label sets stay bounded and carry no id', async () => {
      const app = await start();
      const ids: string[] = [];
      for (let i = 0; i < 15; i++) {
        const id = `id${randomBytes(6).toString('hex')}`;
        ids.push(id);
        await fetch(`${app.base}/api/locations/${id}/workflows/${id}x/analysis`);
        await fetch(`${app.base}/nothing/${id}`);
      }
      const text = await (await fetch(`${app.base}/metrics`)).text();
      for (const id of ids) expect(text).not.toContain(id);
      const routes = new Set([...text.matchAll(/^http_requests_total\{[^}]*route="([^"]*)"/gm)].map((m) => m[1]));
      expect([...routes].sort()).toEqual([
        '/api/locations/:locationId/workflows/:workflowId/analysis',
        '__unmatched__',
      ]);
    });

    it('passes promtool check metrics', async () => {
      const app = await start();
      await fetch(`${app.base}/api/me`);
      await hits(`${app.base}/api/workflows`, 22); // with /api/me: 23 requests, 3 rejected, so rate_limit_exceeded_total has samples
      const text = await (await fetch(`${app.base}/metrics`)).text();
      expect(text).toMatch(/^rate_limit_exceeded_total\{tier="free",policy="general"\} 3$/m);
      const dir = mkdtempSync(join(tmpdir(), 'api-metrics-'));
      writeFileSync(join(dir, 'metrics.txt'), text);
      const { stdout, stderr } = await run('sh', ['-c', `promtool check metrics < ${join(dir, 'metrics.txt')}`]);
      expect(stdout + stderr).toBe('');
    });

    it('in production needs the internal token as a bearer token', async () => {
      const app = await start({ isProduction: true });
      expect((await fetch(`${app.base}/metrics`)).status).toBe(401);
      expect(
        (await fetch(`${app.base}/metrics`, { headers: { authorization: 'Bearer wrong-token-wrong-token' } })).status,
      ).toBe(401);
      const ok = await fetch(`${app.base}/metrics`, { headers: internal });
      expect(ok.status).toBe(200);
      expect(await ok.text()).toContain('http_requests_total');
    });
  });

  describe('cache', () => {
    it('/internal/cache-stats is the cache stats() behind the internal token; /health/detailed shows cache and Redis', async () => {
      const app = await start();
      await waitFor('the cache to connect to Redis', async () => app.libs!.cache.stats().redis === 'up', 10_000);
      expect((await fetch(`${app.base}/internal/cache-stats`)).status).toBe(404);
      const stats = (await (await fetch(`${app.base}/internal/cache-stats`, { headers: internal })).json()) as Record<
        string,
        unknown
      >;
      expect(stats).toMatchObject({ mode: 'near', redis: 'up', breaker: 'closed' });
      const detailed = (await (await fetch(`${app.base}/health/detailed`, { headers: internal })).json()) as Record<
        string,
        unknown
      >;
      expect(detailed).toMatchObject({
        status: 'ok',
        backends: { cache: 'redis', rateLimit: 'redis' },
        redis: { status: 'up' },
        cache: { mode: 'near', redis: 'up', breaker: 'closed' },
      });
    });

    it('defines the app keys exactly as specified', () => {
      expect(CacheKeys.workflow('loc1', 'wf1')).toBe('workflow:{loc1}:wf1');
      expect(CacheKeys.workflows('loc1')).toBe('workflows:{loc1}');
      expect(CacheKeys.analysis('wf1')).toBe('analysis:wf1');
      expect(CacheKeys.user('loc1')).toBe('user:{loc1}');
    });
  });
});
