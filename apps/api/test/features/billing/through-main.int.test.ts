// Billing end to end against the real composition root: src/main.ts in a child process in demo mode, the
// real rate limiter (Redis, private server) and workflow routes, and our fake Stripe server for checkout and webhooks.
import {
  canStartRedis,
  hasSharedPostgres,
  sharedPostgres,
  startRedis,
  type PrivateRedis,
  type SharedPostgres,
} from '@org/test-services';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeStripe, type FakeStripe } from '../../../fakes/stripe/server.js';
import { spawnApp, waitReady, type AppProcess } from '../../support/child.js';
import { TEST_SECRETS } from '../../support/app.js';

const pgUp = await hasSharedPostgres();
const redisOk = await canStartRedis();
const PRICE_PRO = 'price_e2e_pro';

describe.skipIf(!pgUp || !redisOk)(
  'billing end to end through src/main.ts (demo mode, Redis limiter, fake Stripe)',
  () => {
    let pg: SharedPostgres;
    let redis: PrivateRedis;
    let stripe: FakeStripe;
    let app: AppProcess;
    let cookie = '';

    beforeAll(async () => {
      pg = await sharedPostgres('api_billing_e2e');
      redis = await startRedis();
      stripe = await startFakeStripe({ prices: [PRICE_PRO] });
      app = await spawnApp('src/main.ts', {
        NODE_ENV: 'development',
        DEMO_MODE: 'true',
        DATABASE_URL: pg.url,
        REDIS_URL: redis.url,
        // Redis answers late on a loaded machine: this test counts limits, it is not about the decision deadline.
        RATE_LIMIT_TIMEOUT_MS: '1000',
        STRIPE_API_BASE_URL: stripe.url,
        STRIPE_SECRET_KEY: TEST_SECRETS.stripeSecretKey,
        STRIPE_WEBHOOK_SECRET: TEST_SECRETS.stripeWebhookSecret,
        STRIPE_PRICE_PRO: PRICE_PRO,
        SESSION_SECRET: TEST_SECRETS.sessionSecret,
        INTERNAL_TOKEN: TEST_SECRETS.internalToken,
      });
      await waitReady(app);
      const login = await fetch(`${app.base}/auth/demo/login`, { method: 'POST' });
      expect(login.status).toBe(200);
      cookie = login.headers
        .getSetCookie()
        .map((c) => c.split(';')[0])
        .join('; ');
    }, 90_000);
    afterAll(async () => {
      app?.child.kill('SIGTERM');
      await app?.exited;
      await stripe?.close();
      await redis?.stop();
      await pg?.cleanup();
      expect(app?.output() ?? '').not.toContain(TEST_SECRETS.stripeSecretKey);
    });

    const api = (path: string, init: { method?: string; body?: unknown } = {}) =>
      fetch(`${app.base}${path}`, {
        method: init.method ?? 'GET',
        headers: { cookie, 'content-type': 'application/json' },
        body: init.body === undefined ? undefined : JSON.stringify(init.body),
      });

    it('free: the 11th analysis gets 429 with the upgrade prompt; after checkout and the webhook the next one passes as pro', async () => {
      const workflows = (await (await api('/api/workflows')).json()) as { data: { id: string }[] };
      const workflowId = workflows.data[0]!.id;
      expect(
        ((await (await api('/api/subscription')).json()) as { data: { tier: string; retentionDays: number } }).data,
      ).toMatchObject({ tier: 'free', retentionDays: 7 });

      for (let i = 1; i <= 10; i++)
        expect((await api('/api/analyze', { method: 'POST', body: { workflowId } })).status, `analysis ${i}`).toBe(200);
      const limited = await api('/api/analyze', { method: 'POST', body: { workflowId } });
      expect(limited.status).toBe(429);
      expect(limited.headers.get('x-ratelimit-tier')).toBe('free');
      expect(await limited.json()).toMatchObject({
        success: false,
        error: {
          code: 'RATE_LIMIT_EXCEEDED',
          currentTier: 'free',
          upgradeUrl: '/api/subscription/checkout',
          limits: { current: 10, pro: 100 },
        },
      });

      const checkout = (await (
        await api('/api/subscription/checkout', { method: 'POST', body: { tier: 'pro' } })
      ).json()) as { data: { sessionId: string; url: string } };
      expect(checkout.data.url.startsWith(stripe.url)).toBe(true);
      const { deliveries } = await stripe.completeCheckout(checkout.data.sessionId, {
        url: `${app.base}/webhooks/stripe`,
        secret: TEST_SECRETS.stripeWebhookSecret,
      });
      expect(deliveries.map((d) => d.status)).toEqual([200, 200]);

      // No restart and no counter reset: the next request is decided with the pro tier.
      const upgraded = await api('/api/analyze', { method: 'POST', body: { workflowId } });
      expect(upgraded.status).toBe(200);
      expect(upgraded.headers.get('x-ratelimit-tier')).toBe('pro');
      expect(upgraded.headers.get('x-ratelimit-limit')).toBe('100');
      expect(
        ((await (await api('/api/subscription')).json()) as { data: { tier: string; retentionDays: number } }).data,
      ).toMatchObject({ tier: 'pro', retentionDays: 90 });
    });
  },
);
