import { createMetrics, type Metrics } from '@org/metrics';
import { tieredRateLimit } from '@org/tiered-rate-limit';
import { API_TIERS } from '../../../src/features/billing/rate-limit.js';
import { hasSharedPostgres, sharedPostgres, type SharedPostgres } from '@org/test-services';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeStripe, type FakeStripe } from '../../../fakes/stripe/server.js';
import { migrate } from '../../../src/db/migrations.js';
import { locationTier } from '../../../src/features/billing/queries.js';
import { TEST_SECRETS, PRICE_ENTERPRISE, PRICE_PRO, startApp, type BillingApp } from '../../support/app.js';

const pgUp = await hasSharedPostgres();

async function call(url: string, init: { method?: string; headers?: Record<string, string>; body?: unknown } = {}) {
  const res = await fetch(url, {
    method: init.method ?? 'GET',
    headers: init.headers,
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- response bodies are asserted field by field
  return { status: res.status, body: (await res.json()) as any };
}

describe.skipIf(!pgUp)(
  'Billing routes: checkout, portal, subscription (real stripe SDK against the fake Stripe server)',
  () => {
    let pg: SharedPostgres;
    let fake: FakeStripe;
    let app: BillingApp;
    let metrics: Metrics;

    beforeAll(async () => {
      pg = await sharedPostgres('api_billing_checkout');
      await migrate({ url: pg.url });
      fake = await startFakeStripe({ prices: [PRICE_PRO, PRICE_ENTERPRISE] });
      metrics = createMetrics({ runtime: false });
      app = await startApp({
        url: pg.url,
        // A limiter with the tier resolved per request from the subscription (locationTier), on a test route, so this
        // file needs no Redis; through-main.int.test.ts runs the same flow through main.ts and its wired limiter.
        extraApiRoutes(router, { db }) {
          const limiter = tieredRateLimit({
            tiers: API_TIERS,
            key: (req) => req.principal?.locationId,
            resolveTier: (req) => (req.principal?.locationId ? locationTier(db, req.principal.locationId) : undefined),
            policies: ['general', 'analysis'],
            // As the app's limiter (src/features/billing/rate-limit.ts): the upgrade prompt is off unless a URL is given.
            upgradeUrl: '/api/subscription/checkout',
          });
          router.post('/test/analyze', limiter, (_req, res) => {
            res.json({ success: true });
          });
        },
        billing: { stripe: fake, metrics },
      });
    });
    afterAll(async () => {
      metrics?.close();
      await app?.close();
      await fake?.close();
      expect(app?.logs.text() ?? '').not.toContain(TEST_SECRETS.stripeSecretKey);
      await pg?.cleanup();
    });

    it('the checkout request retried after a 500 from Stripe creates one session; every POST carries the same idempotency key', async () => {
      const tenant = await app.tenant('loc-b5');
      fake.failNext({ method: 'POST', path: '/v1/checkout/sessions', status: 500 });
      const first = await call(`${app.base}/api/subscription/checkout`, {
        method: 'POST',
        headers: tenant.headers,
        body: { tier: 'pro' },
      });
      expect(first.status).toBe(200);
      expect(first.body.data.url).toMatch(new RegExp(`^${fake.url}/checkout/cs_test_`));
      // The client retries too (double click, timeout): same logical request, same key; once more after a lost response.
      const second = await call(`${app.base}/v1/api/subscription/checkout`, {
        method: 'POST',
        headers: tenant.headers,
        body: { tier: 'pro' },
      });
      fake.failNext({ method: 'POST', path: '/v1/checkout/sessions', status: 500, when: 'after' });
      const third = await call(`${app.base}/api/subscription/checkout`, {
        method: 'POST',
        headers: tenant.headers,
        body: { tier: 'pro' },
      });
      expect([second.status, third.status]).toEqual([200, 200]);
      expect(second.body.data.url).toBe(first.body.data.url);
      expect(third.body.data.url).toBe(first.body.data.url);

      const sessionPosts = fake.requests.filter(
        (r) => r.method === 'POST' && r.path === '/v1/checkout/sessions' && r.body.client_reference_id === 'loc-b5',
      );
      expect(sessionPosts.length).toBe(5); // 500 + retry, replay, 500-after-create + retry
      expect(new Set(sessionPosts.map((r) => r.idempotencyKey)).size).toBe(1);
      expect(sessionPosts[0]!.idempotencyKey).toMatch(/^checkout:[0-9a-f]{48}$/);
      expect([...fake.checkoutSessions.values()].filter((s) => s.client_reference_id === 'loc-b5')).toHaveLength(1);
      // One customer for the location, created once, linked in stripe_customers.
      const customerPosts = fake.requests.filter(
        (r) =>
          r.method === 'POST' &&
          r.path === '/v1/customers' &&
          (r.body.metadata as Record<string, unknown> | undefined)?.location_id === 'loc-b5',
      );
      expect(customerPosts).toHaveLength(1);
      expect(
        fake.requests
          .filter((r) => r.method === 'POST')
          .every((r) => typeof r.idempotencyKey === 'string' && r.idempotencyKey.length > 0),
      ).toBe(true);
      const row = (await app.db.query("SELECT customer_id FROM stripe_customers WHERE location_id = 'loc-b5'"))
        .rows[0]!;
      expect(row.customer_id).toBe(fake.checkoutSessions.get(first.body.data.sessionId)!.customer);
    });

    it('concurrent first checkouts of one location create one customer', async () => {
      const tenant = await app.tenant('loc-race');
      const results = await Promise.all(
        Array.from({ length: 5 }, () =>
          call(`${app.base}/api/subscription/checkout`, {
            method: 'POST',
            headers: tenant.headers,
            body: { tier: 'enterprise' },
          }),
        ),
      );
      expect(results.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
      expect(new Set(results.map((r) => r.body.data.url)).size).toBe(1);
      expect(
        [...fake.customers.values()].filter((c) => (c.metadata as Record<string, unknown>).location_id === 'loc-race'),
      ).toHaveLength(1);
    });

    it('validation, authentication and error format', async () => {
      const tenant = await app.tenant('loc-val');
      const free = await call(`${app.base}/api/subscription/checkout`, {
        method: 'POST',
        headers: tenant.headers,
        body: { tier: 'free' },
      });
      expect(free.status).toBe(400);
      expect(free.body.error.code).toBe('VALIDATION_ERROR');
      const extra = await call(`${app.base}/api/subscription/checkout`, {
        method: 'POST',
        headers: tenant.headers,
        body: { tier: 'pro', price: 'price_cheap' },
      });
      expect(extra.status).toBe(400);
      const anonymous = await call(`${app.base}/api/subscription`);
      expect(anonymous.status).toBe(401);
      expect(anonymous.body).toEqual({
        success: false,
        error: { code: 'UNAUTHORIZED', message: expect.any(String), requestId: expect.any(String) },
      });
      const portal = await call(`${app.base}/api/subscription/portal`, { method: 'POST', headers: tenant.headers });
      expect(portal.status).toBe(409);
      expect(portal.body.error.code).toBe('BILLING_NO_CUSTOMER');
    });

    it('Stripe down: 503 STRIPE_UNAVAILABLE after the SDK retries, with nothing about Stripe internals in the body', async () => {
      const tenant = await app.tenant('loc-down');
      fake.failNext({ method: 'POST', path: '/v1/customers', status: 500, times: 3 });
      const res = await call(`${app.base}/api/subscription/checkout`, {
        method: 'POST',
        headers: tenant.headers,
        body: { tier: 'pro' },
      });
      expect(res.status).toBe(503);
      expect(res.body.error.code).toBe('STRIPE_UNAVAILABLE');
      expect(JSON.stringify(res.body)).not.toMatch(/Scripted failure|sk_test/);
    });

    it('end to end: free account hits the analysis limit (429 + upgrade prompt) -> checkout on the fake Stripe -> webhook -> pro limits on the next request, retention 7 -> 90 days; cancel -> free again', async () => {
      const tenant = await app.tenant('loc-e2e');
      const insert = (daysAgo: number, workflow: string) =>
        app.db.query(
          "INSERT INTO analysis_results (location_id, workflow_id, workflow_version, health_score, issues_found, tier, created_at) VALUES ('loc-e2e', $1, 1, 80, 2, 'free', now() - make_interval(days => $2))",
          [workflow, daysAgo],
        );
      await insert(0, 'wf-today');
      await insert(3, 'wf-3d');
      await insert(30, 'wf-30d');
      await insert(200, 'wf-200d');
      const history = async () =>
        (
          await call(`${app.base}/api/locations/loc-e2e/analyses?limit=100`, { headers: tenant.headers }).then((r) =>
            r.status === 200 ? r : Promise.reject(new Error(JSON.stringify(r))),
          )
        ).body.data.map((r: { workflowId: string }) => r.workflowId);

      const before = await call(`${app.base}/api/subscription`, { headers: tenant.headers });
      expect(before.status).toBe(200);
      expect(before.body.data).toMatchObject({
        tier: 'free',
        status: 'none',
        retentionDays: 7,
        limits: { analysesPerHour: 10 },
        usage: { analysesPerHour: { used: 1, limit: 10 } },
      });
      expect(await history()).toEqual(['wf-today', 'wf-3d']);
      expect(
        (await call(`${app.base}/api/locations/loc-e2e/workflows/wf-30d/analysis`, { headers: tenant.headers })).status,
      ).toBe(404);

      // Free: 10 analyses an hour, then 429 with the upgrade prompt pointing at the checkout route.
      const analyze = () =>
        fetch(`${app.base}/api/test/analyze`, { method: 'POST', headers: tenant.headers, body: '{}' });
      for (let i = 0; i < 10; i++) expect((await analyze()).status).toBe(200);
      const limited = await analyze();
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

      const checkout = await call(`${app.base}/api/subscription/checkout`, {
        method: 'POST',
        headers: tenant.headers,
        body: { tier: 'pro' },
      });
      expect(checkout.status).toBe(200);
      const { deliveries, subscription } = await fake.completeCheckout(checkout.body.data.sessionId, {
        url: app.webhookUrl,
        secret: TEST_SECRETS.stripeWebhookSecret,
      });
      expect(deliveries.map((d) => [d.event.type, d.status])).toEqual([
        ['checkout.session.completed', 200],
        ['customer.subscription.created', 200],
      ]);

      const after = await call(`${app.base}/v1/api/subscription`, { headers: tenant.headers });
      expect(after.body.data).toMatchObject({
        tier: 'pro',
        planTier: 'pro',
        status: 'active',
        subscriptionId: subscription.id,
        priceId: PRICE_PRO,
        retentionDays: 90,
        limits: { requestsPerMinute: 100, analysesPerHour: 100 },
        usage: { analysesPerHour: { used: 1, limit: 100 } },
      });
      expect(Date.parse(after.body.data.currentPeriodEnd)).toBeGreaterThan(Date.now() + 29 * 86_400_000);
      expect(await history()).toEqual(['wf-today', 'wf-3d', 'wf-30d']);
      expect(
        (await call(`${app.base}/api/locations/loc-e2e/workflows/wf-30d/analysis`, { headers: tenant.headers })).status,
      ).toBe(200);
      expect((await metrics.scrape()).body).toMatch(/active_users\{tier="pro"\} 1\n/);
      // The next analysis request passes with pro limits: no restart, no key reset.
      const upgraded = await analyze();
      expect(upgraded.status).toBe(200);
      expect(upgraded.headers.get('x-ratelimit-tier')).toBe('pro');
      expect(upgraded.headers.get('x-ratelimit-limit')).toBe('100');
      expect(app.tierChanges.filter((c) => c.locationId === 'loc-e2e')).toEqual([
        { locationId: 'loc-e2e', tier: 'pro', previous: 'free' },
      ]);
      expect((await app.db.query("SELECT tier FROM locations WHERE id = 'loc-e2e'")).rows[0]!.tier).toBe('pro');

      const portal = await call(`${app.base}/api/subscription/portal`, { method: 'POST', headers: tenant.headers });
      expect(portal.status).toBe(200);
      const again = await call(`${app.base}/api/subscription/checkout`, {
        method: 'POST',
        headers: tenant.headers,
        body: { tier: 'enterprise' },
      });
      expect(again.status).toBe(409);
      expect(again.body.error.code).toBe('BILLING_SUBSCRIPTION_EXISTS');
      expect(portal.body.data.url).toMatch(new RegExp(`^${fake.url}/portal/`));

      const deleted = fake.cancelSubscription(subscription.id as string, {
        created: Math.floor(Date.now() / 1000) + 1,
      });
      expect((await fake.deliver(app.webhookUrl, TEST_SECRETS.stripeWebhookSecret, deleted)).status).toBe(200);
      expect((await call(`${app.base}/api/subscription`, { headers: tenant.headers })).body.data).toMatchObject({
        tier: 'free',
        status: 'canceled',
        retentionDays: 7,
      });
      expect(await history()).toEqual(['wf-today', 'wf-3d']);
      expect(app.tierChanges.filter((c) => c.locationId === 'loc-e2e').map((c) => c.tier)).toEqual(['pro', 'free']);

      // Metrics through @org/metrics on a real prom-client registry.
      const { body } = await metrics.scrape();
      expect(body).toContain('subscription_events_total{type="checkout.session.completed",outcome="applied"} 1');
      // Same second as the checkout event: applied again, the same state, no second tier change (asserted above).
      expect(body).toContain('subscription_events_total{type="customer.subscription.created",outcome="applied"} 1');
      expect(body).toContain('subscription_events_total{type="customer.subscription.deleted",outcome="applied"} 1');
      const locations = Number((await app.db.query('SELECT count(*) AS n FROM locations')).rows[0]!.n);
      expect(body).toContain(`active_users{tier="free"} ${locations}`);
      expect(body).toMatch(/active_users\{tier="pro"\} 0/);
    });

    it('demo mode: opening the fake checkout URL pays, delivers the signed webhooks and redirects to the success URL', async () => {
      const tenant = await app.tenant('loc-demo');
      fake.setWebhook({ url: app.webhookUrl, secret: TEST_SECRETS.stripeWebhookSecret });
      try {
        const checkout = await call(`${app.base}/api/subscription/checkout`, {
          method: 'POST',
          headers: tenant.headers,
          body: { tier: 'enterprise' },
        });
        const page = await fetch(checkout.body.data.url, { redirect: 'manual' });
        expect(page.status).toBe(303);
        expect(page.headers.get('location')).toBe(
          `https://app.example.test/billing/success?session_id=${checkout.body.data.sessionId}`,
        );
        expect((await call(`${app.base}/api/subscription`, { headers: tenant.headers })).body.data).toMatchObject({
          tier: 'enterprise',
          status: 'active',
          retentionDays: null,
        });
      } finally {
        fake.setWebhook(undefined);
      }
    });
  },
);
