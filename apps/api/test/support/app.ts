// The one in-process test harness: the real app (createApp) on 127.0.0.1:0 against a test database, with the parts a
// test asks for: the @org libraries (metrics, cache, rate limit), an explicit rate-limit middleware, billing against the
// fake Stripe (fakes/stripe), the GHL workflow module against the fake GHL (fakes/ghl), fault hooks and test routes.
// Nothing is added that the options do not name: in particular the rate limiter runs only when `libraries` or
// `rateLimit` says so.
import type { KeyObject } from 'node:crypto';
import type { Server } from 'node:http';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import type { Metrics } from '@org/metrics';
import { fakeLocationsFromFolder, type FakeGhl, type FakeLocation } from '../../fakes/ghl/server.js';
import type { FakeStripe } from '../../fakes/stripe/server.js';
import { createApp, requestListener, type AppDeps } from '../../src/app/create-app.js';
import { createApiKeyStore } from '../../src/auth/api-keys.js';
import { createDatabase, type Database, type DatabaseOptions, type Queryable } from '../../src/db/database.js';
import { createBilling, type BillingOptions } from '../../src/features/billing/billing.js';
import { billingMetrics } from '../../src/features/billing/metrics.js';
import { createStripeClient } from '../../src/features/billing/stripe-client.js';
import type { Tier } from '../../src/features/billing/tiers.js';
import type { UserRecords } from '../../src/features/billing/user-record.js';
import type { WebhookOutcome } from '../../src/features/billing/webhooks.js';
import type { WorkflowCache } from '../../src/features/workflows/cache.js';
import {
  createWorkflowModule,
  type WorkflowModule,
  type WorkflowModuleOptions,
} from '../../src/features/workflows/module.js';
import { createOAuthClient } from '../../src/ghl/oauth.js';
import { createTokenCipher } from '../../src/ghl/token-crypto.js';
import { createTokenStore, type TokenStore } from '../../src/ghl/token-store.js';
import { createLifecycle, type Lifecycle } from '../../src/http/lifecycle.js';
import { drain, listen, portOf } from '../../src/http/server.js';
import { createLibraries, type Libraries, type LibrariesOptions } from '../../src/libraries.js';
import { createLogger } from '../../src/observability/logger.js';

/** Secrets the tests use; the log scans assert none of them ever reaches a log line. */
export const TEST_SECRETS = {
  sessionSecret: 'test-session-secret-3f9a1c0b7d2e4f6a8b9c0d1e',
  internalToken: 'test-internal-token-7c2d9e1f4a6b8c0d',
  ghlClientSecret: 'test-ghl-client-secret-5b7d9f1a',
  stripeSecretKey: 'sk_test_51TestSecretKeyValue9x8y7z',
  stripeWebhookSecret: 'whsec_testWebhookSecretValue123',
  encryptionKeyHex: 'a1'.repeat(32),
};

/** Captures JSON log lines in memory. */
export class LogCapture extends Writable {
  readonly lines: string[] = [];
  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: () => void): void {
    this.lines.push(...chunk.toString().split('\n').filter(Boolean));
    callback();
  }
  text(): string {
    return this.lines.join('\n');
  }
}

export const PRICE_PRO = 'price_test_pro_monthly';
export const PRICE_ENTERPRISE = 'price_test_enterprise_monthly';
export const PREVIOUS_WEBHOOK_SECRET = 'whsec_previousSecretBeforeRotation456';

export const TEST_ENCRYPTION_KEY = Buffer.from(TEST_SECRETS.encryptionKeyHex, 'hex');

/** Billing against the fake Stripe server. */
export interface BillingHarnessOptions {
  /** The fake Stripe server (fakes/stripe) the Stripe client talks to. */
  stripe: FakeStripe;
  /** @default [TEST_SECRETS.stripeWebhookSecret] */
  webhookSecrets?: string[];
  /** Fault hooks inside the webhook handler. @default none */
  faults?: BillingOptions['faults'];
  /** @default the billing module's default */
  pastDueGraceMs?: number;
  /** A real @org/metrics instance to feed subscription_events_total and active_users. @default none */
  metrics?: Metrics;
}

/** The GHL workflow module against the fake GHL server. */
export interface GhlHarnessOptions {
  /** The fake GHL server (fakes/ghl): API, OAuth and builder. */
  fake: FakeGhl;
  /** @default 'fake-client-id' */
  clientId?: string;
  /** @default 'fake-client-secret' */
  clientSecret?: string;
  /** @default none (webhooks unverifiable) */
  webhookPublicKey?: KeyObject;
  /** @default the module's default */
  cache?: WorkflowCache;
  /** The tier records (the rate limiter's, on the app's cache), built on the app's database. @default database reads */
  users?: (db: Database) => Pick<UserRecords, 'get'>;
  demo?: { fixturesDir: string };
  /** The builder API on the fake GHL. @default true */
  builder?: boolean;
  /** The background analysis queue (src/jobs). @default the module's in-process queue */
  analysisQueue?: WorkflowModuleOptions['analysisQueue'];
  /** Batch items charged to the tier's analysis limit (createAnalysisBudget). @default none */
  analysisBudget?: WorkflowModuleOptions['analysisBudget'];
}

export interface AppOptions {
  /** The test database. */
  url: string;
  /** @default false */
  isProduction?: boolean;
  /** Test-only routes on the v1 API router. */
  extraApiRoutes?: AppDeps['extraApiRoutes'];
  /** Pool options over the harness's defaults (tighter without billing or GHL). */
  db?: Partial<Omit<DatabaseOptions, 'url' | 'logger'>>;
  /** @default 10_000 with billing, else 5_000 */
  headersTimeoutMs?: number;
  /** @default 0 */
  trustProxyHops?: number;
  enableApiDocs?: boolean;
  /** The @org libraries (metrics, cache, rate limit), built by createLibraries as in compose.ts; their rate limiter runs unless `rateLimit` replaces it. @default none */
  libraries?: Pick<LibrariesOptions, 'redisUrl' | 'enableMetrics' | 'prefixes' | 'rateLimitTimeoutMs'>;
  /** The rate-limit middleware (createApiRateLimit). @default the libraries' limiter when `libraries` is set, else none */
  rateLimit?: AppDeps['rateLimit'];
  /** Mounts /webhooks/stripe and /subscription against the fake Stripe. @default none */
  billing?: BillingHarnessOptions;
  /** Mounts the GHL routes (createWorkflowModule) against the fake GHL; every query is recorded. @default none */
  ghl?: GhlHarnessOptions;
}

export interface App {
  base: string;
  server: Server;
  /** The app's database (recording every query when `ghl` is set). */
  db: Database;
  lifecycle: Lifecycle;
  logs: LogCapture;
  libs: Libraries | undefined;
  /** Every query the app ran (only with `ghl`). */
  queries: LoggedQuery[];
  close(): Promise<void>;
}

export interface BillingApp extends App {
  webhookUrl: string;
  /** Every onTierChanged call, in order. */
  tierChanges: { locationId: string; tier: Tier; previous: Tier }[];
  /** Every onSubscriptionEvent call (the metric's labels). */
  events: { type: string; outcome: WebhookOutcome | 'error' }[];
  /** A tenant with an API key scoped to its location. */
  tenant(locationId: string): Promise<{ accountId: string; locationId: string; headers: Record<string, string> }>;
}

export interface GhlApp extends App {
  module: WorkflowModule;
}

/** The real app on 127.0.0.1:0 with what `options` names (see AppOptions). */
export async function startApp(
  options: AppOptions & { billing: BillingHarnessOptions; ghl: GhlHarnessOptions },
): Promise<BillingApp & GhlApp>;
export async function startApp(options: AppOptions & { billing: BillingHarnessOptions }): Promise<BillingApp>;
export async function startApp(options: AppOptions & { ghl: GhlHarnessOptions }): Promise<GhlApp>;
export async function startApp(options: AppOptions): Promise<App>;
export async function startApp(options: AppOptions): Promise<App & Partial<BillingApp & GhlApp>> {
  const logs = new LogCapture();
  const logger = createLogger({ level: 'debug', destination: logs });
  const isProduction = options.isProduction ?? false;
  const poolDefaults: Partial<DatabaseOptions> = options.billing
    ? { connectionTimeoutMs: 5_000, statementTimeoutMs: 10_000, max: 20, maxWaiting: 200 }
    : options.ghl
      ? { connectionTimeoutMs: 2_000, statementTimeoutMs: 10_000 }
      : { connectionTimeoutMs: 1_000, statementTimeoutMs: 2_000 };
  const inner = createDatabase({ url: options.url, logger, ...poolDefaults, ...options.db });
  const queries: LoggedQuery[] = [];
  const db = options.ghl ? recordingDatabase(inner, queries) : inner;
  const lifecycle = createLifecycle();
  const libs = options.libraries
    ? createLibraries({ db, logger, sessionSecret: TEST_SECRETS.sessionSecret, isProduction, ...options.libraries })
    : undefined;

  const tierChanges: BillingApp['tierChanges'] = [];
  const events: BillingApp['events'] = [];
  let billing: AppDeps['billing'];
  if (options.billing) {
    const metricHooks = options.billing.metrics ? billingMetrics(options.billing.metrics, db) : undefined;
    billing = createBilling({
      db,
      logger,
      stripe: createStripeClient({
        secretKey: TEST_SECRETS.stripeSecretKey,
        apiBaseUrl: options.billing.stripe.url,
        maxNetworkRetries: 2,
      }),
      prices: { pro: PRICE_PRO, enterprise: PRICE_ENTERPRISE },
      webhookSecrets: options.billing.webhookSecrets ?? [TEST_SECRETS.stripeWebhookSecret],
      pastDueGraceMs: options.billing.pastDueGraceMs,
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
      faults: options.billing.faults,
    });
  }

  let module: WorkflowModule | undefined;
  if (options.ghl) {
    const ghl = options.ghl;
    module = await createWorkflowModule({
      db,
      logger,
      isProduction,
      sessionSecret: TEST_SECRETS.sessionSecret,
      frontendUrl: 'https://app.example.test',
      ghl: {
        clientId: ghl.clientId ?? 'fake-client-id',
        clientSecret: ghl.clientSecret ?? 'fake-client-secret',
        apiBaseUrl: ghl.fake.url,
        authorizeUrl: `${ghl.fake.url}/oauth/chooselocation`,
        redirectUri: 'http://127.0.0.1:1/auth/ghl/callback',
        webhookPublicKey: ghl.webhookPublicKey,
        builderBaseUrl: ghl.builder === false ? undefined : ghl.fake.url,
      },
      encryption: { keys: { k1: TEST_ENCRYPTION_KEY }, currentKeyId: 'k1' },
      cache: ghl.cache,
      users: ghl.users?.(db),
      demo: ghl.demo,
      ghlTimeoutMs: 5_000,
      analysisQueue: ghl.analysisQueue,
      analysisBudget: ghl.analysisBudget,
    });
  }

  const metrics = libs?.metrics;
  const app = createApp({
    config: {
      isProduction,
      frontendUrl: 'https://app.example.test',
      trustProxyHops: options.trustProxyHops ?? 0,
      sessionSecret: TEST_SECRETS.sessionSecret,
      internalToken: TEST_SECRETS.internalToken,
      enableApiDocs: options.enableApiDocs,
    },
    logger,
    db,
    lifecycle,
    versions: { app: '0.0.0-test' },
    backends: { database: 'postgres', cache: libs?.backend ?? 'none', rateLimit: libs?.backend ?? 'none' },
    metrics,
    cache: libs?.cache,
    rateLimit: options.rateLimit ?? libs?.rateLimit,
    billing,
    ghl: module?.routers,
    extraApiRoutes: options.extraApiRoutes,
  });
  const server = await listen(requestListener(app, { metrics }), {
    port: 0,
    host: '127.0.0.1',
    headersTimeoutMs: options.headersTimeoutMs ?? (options.billing ? 10_000 : 5_000),
    requestTimeoutMs: options.billing ? 30_000 : options.ghl ? 20_000 : 10_000,
  });
  await module?.afterMigrate();
  lifecycle.markReady();
  const base = `http://127.0.0.1:${portOf(server)}`;
  return {
    base,
    server,
    db,
    lifecycle,
    logs,
    libs,
    queries,
    module,
    webhookUrl: `${base}/webhooks/stripe`,
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
      await module?.close();
      await libs?.close();
      await inner.close().catch(() => {});
    },
  };
}

/** A session cookie for `locationId` (seeded account and location), as the OAuth callback would set it. */
export async function sessionFor(app: App, accountId: string, locationId: string): Promise<string> {
  const { createSessionStore } = await import('../../src/auth/sessions.js');
  const value = await createSessionStore(app.db, TEST_SECRETS.sessionSecret).create(accountId, locationId, 3_600_000);
  return `session=${encodeURIComponent(value)}`;
}

/** Inserts an account and a location and returns their ids. */
export async function seedTenant(db: Database, locationId: string): Promise<{ accountId: string; locationId: string }> {
  const { rows } = await db.query<{ id: string }>('INSERT INTO accounts (email) VALUES ($1) RETURNING id', [
    `${locationId}@example.test`,
  ]);
  const accountId = rows[0]!.id;
  await db.query('INSERT INTO locations (id, account_id, name) VALUES ($1, $2, $3)', [
    locationId,
    accountId,
    locationId,
  ]);
  return { accountId, locationId };
}

/** One query the app ran: SQL, parameters and the rows it got back (the "SQL log" of the tenant tests). */
export interface LoggedQuery {
  text: string;
  values: unknown[];
  rows: unknown[];
}

/** Wraps a Database so every statement, its parameters and its result rows are recorded. */
export function recordingDatabase(db: Database, log: LoggedQuery[]): Database {
  const record = async <T extends { rows: unknown[] }>(
    text: string,
    values: unknown[] | undefined,
    run: () => Promise<T>,
  ) => {
    const result = await run();
    log.push({ text, values: values ?? [], rows: result.rows });
    return result;
  };
  const wrap = (q: Queryable): Queryable => ({
    query: (text, values) => record(text, values, () => q.query(text, values)) as never,
  });
  return {
    ...db,
    pool: db.pool,
    query: (text, values) => record(text, values, () => db.query(text, values)) as never,
    read: (text, values) => record(text, values, () => db.read(text, values)) as never,
    transaction: (fn) => db.transaction((client) => fn(wrap(client))),
    ping: (ms) => db.ping(ms),
    stats: () => db.stats(),
    close: () => db.close(),
  };
}

const FIXTURE_LOCATION = fakeLocationsFromFolder(fileURLToPath(new URL('../../fakes/ghl/workflows', import.meta.url)))[
  'pR7kQ2sVx9LmN4tYb3Hc'
]!;

/**
 * A fake GHL location of any size: the fixture location's workflows (so references between them stay real) under
 * ids `${locationId}-wf-${i}`, named `Workflow ${i}`, with the fixture location's inventory.
 */
export function fixtureLocation(
  locationId: string,
  count: number,
  version: (i: number) => number = () => 1,
): FakeLocation {
  return {
    inventory: FIXTURE_LOCATION.inventory,
    workflows: Array.from({ length: count }, (_, i) => {
      const id = `${locationId}-wf-${i}`;
      return {
        ...FIXTURE_LOCATION.workflows[i % FIXTURE_LOCATION.workflows.length]!,
        id,
        _id: id,
        locationId,
        name: `Workflow ${i}`,
        version: version(i),
      };
    }),
  };
}

/**
 * The token store as an app process started with `ENCRYPTION_KEY=TEST_SECRETS.encryptionKeyHex` (key id '1', the
 * default ENCRYPTION_KEY_ID) and this GHL client reads it: `save` seeds a connected location for child processes.
 */
export function processTokenStore(db: Database, fake: FakeGhl, client: { id: string; secret: string }): TokenStore {
  return createTokenStore({
    db,
    cipher: createTokenCipher({ keys: { '1': TEST_ENCRYPTION_KEY }, currentKeyId: '1' }),
    oauth: createOAuthClient({ baseUrl: fake.url, clientId: client.id, clientSecret: client.secret }),
  });
}
