import type { Server } from 'node:http';
import type { Metrics } from '@org/metrics';
import { createApiKeyStore } from '../../src/auth/api-keys.js';
import { createBilling, type BillingOptions } from '../../src/features/billing/billing.js';
import { billingMetrics } from '../../src/features/billing/metrics.js';
import type { FakeStripe } from '../../fakes/stripe/server.js';
import { createStripeClient } from '../../src/features/billing/stripe-client.js';
import type { Tier } from '../../src/features/billing/tiers.js';
import type { WebhookOutcome } from '../../src/features/billing/webhooks.js';
import { createDatabase, type Database } from '../../src/db/database.js';
import { createApp, type AppDeps } from '../../src/app/create-app.js';
import { createLifecycle } from '../../src/http/lifecycle.js';
import { drain, listen, portOf } from '../../src/http/server.js';
import { createLogger } from '../../src/observability/logger.js';
import { LogCapture, TEST_SECRETS, seedTenant } from './test-app.js';

export const PRICE_PRO = 'price_test_pro_monthly';
export const PRICE_ENTERPRISE = 'price_test_enterprise_monthly';
export const PREVIOUS_WEBHOOK_SECRET = 'whsec_previousSecretBeforeRotation456';

export interface BillingTestApp {
  base: string;
  webhookUrl: string;
  server: Server;
  db: Database;
  logs: LogCapture;
  /** Every onTierChanged call, in order. */
  tierChanges: { locationId: string; tier: Tier; previous: Tier }[];
  /** Every onSubscriptionEvent call (the metric's labels). */
  events: { type: string; outcome: WebhookOutcome | 'error' }[];
  /** A tenant with an API key scoped to its location. */
  tenant(locationId: string): Promise<{ accountId: string; locationId: string; headers: Record<string, string> }>;
  close(): Promise<void>;
}

/** The real app with billing, against the fake Stripe server, on 127.0.0.1:0. */
export async function startBillingApp(options: {
  url: string;
  fake: FakeStripe;
  webhookSecrets?: string[];
  faults?: BillingOptions['faults'];
  pastDueGraceMs?: number;
  /** A real @org/metrics instance to feed subscription_events_total and active_users. */
  metrics?: Metrics;
  extraApiRoutes?: AppDeps['extraApiRoutes'];
}): Promise<BillingTestApp> {
  const logs = new LogCapture();
  const logger = createLogger({ level: 'debug', destination: logs });
  const db = createDatabase({
    url: options.url,
    logger,
    connectionTimeoutMs: 5_000,
    statementTimeoutMs: 10_000,
    max: 20,
    maxWaiting: 200,
  });
  const tierChanges: BillingTestApp['tierChanges'] = [];
  const events: BillingTestApp['events'] = [];
  const metricHooks = options.metrics ? billingMetrics(options.metrics, db) : undefined;
  const billing = createBilling({
    db,
    logger,
    stripe: createStripeClient({
      secretKey: TEST_SECRETS.stripeSecretKey,
      apiBaseUrl: options.fake.url,
      maxNetworkRetries: 2,
    }),
    prices: { pro: PRICE_PRO, enterprise: PRICE_ENTERPRISE },
    webhookSecrets: options.webhookSecrets ?? [TEST_SECRETS.stripeWebhookSecret],
    pastDueGraceMs: options.pastDueGraceMs,
    successUrl: 'https://app.example.test/billing/success?session_id={CHECKOUT_SESSION_ID}',
    cancelUrl: 'https://app.example.test/billing',
    portalReturnUrl: 'https://app.example.test/billing',
    hooks: {
      onTierChanged: (locationId, tier, previous) => tierChanges.push({ locationId, tier, previous }),
      onSubscriptionEvent: (type, outcome) => {
        events.push({ type, outcome });
        metricHooks?.onSubscriptionEvent(type, outcome);
      },
    },
    faults: options.faults,
  });
  const lifecycle = createLifecycle();
  const app = createApp({
    config: {
      isProduction: false,
      frontendUrl: 'https://app.example.test',
      trustProxyHops: 0,
      sessionSecret: TEST_SECRETS.sessionSecret,
      internalToken: TEST_SECRETS.internalToken,
    },
    logger,
    db,
    lifecycle,
    versions: { app: '0.0.0-test' },
    backends: { database: 'postgres', cache: 'none', rateLimit: 'none' },
    billing,
    extraApiRoutes: options.extraApiRoutes,
  });
  const server = await listen(app, { port: 0, host: '127.0.0.1', headersTimeoutMs: 10_000, requestTimeoutMs: 30_000 });
  lifecycle.markReady();
  const base = `http://127.0.0.1:${portOf(server)}`;
  return {
    base,
    webhookUrl: `${base}/webhooks/stripe`,
    server,
    db,
    logs,
    tierChanges,
    events,
    async tenant(locationId) {
      const tenant = await seedTenant(db, locationId);
      const { key } = await createApiKeyStore(db, TEST_SECRETS.sessionSecret).create({
        accountId: tenant.accountId,
        locationId,
        name: 'billing-test',
        scopes: ['analysis', 'billing'],
      });
      return { ...tenant, headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' } };
    },
    async close() {
      await drain(server, 1_000);
      await db.close().catch(() => {});
    },
  };
}
