// The composition root: builds everything one process runs from the configuration (connections, libraries, features,
// the HTTP app) and says how to close it. It neither listens, migrates nor handles signals: start.ts does that, the
// same way for every role. Tests compose with overrides instead of copying the wiring.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { RequestListener } from 'node:http';
import { resolve } from 'node:path';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { createApp, requestListener, type AppDeps } from './app/create-app.js';
import { createWorkerApp } from './app/worker-app.js';
import { sweepSessions } from './auth/sessions.js';
import type { Config } from './config/config.js';
import { lockDataDir } from './db/data-dir-lock.js';
import { createDatabase, type Database } from './db/database.js';
import { startEmbeddedPostgres, type EmbeddedPostgres } from './db/embedded-postgres.js';
import { demoWorkflowsDir } from './demo/demo-mode.js';
import { createBilling, createStripeClient, startRetentionJob } from './features/billing/index.js';
import { analysisProcessor } from './features/workflows/analysis-job.js';
import { createAnalysisPool } from './features/workflows/analysis-pool.js';
import { auditProcessor } from './features/workflows/audit.js';
import { createWorkflowMetrics } from './features/workflows/metrics.js';
import { createWorkflowModule } from './features/workflows/module.js';
import { createRedisGhlRateLimiter } from './ghl/redis-rate-limiter.js';
import { parseWebhookPublicKey } from './ghl/webhooks.js';
import { createLifecycle, type Lifecycle } from './http/lifecycle.js';
import {
  createAnalysisBudget,
  createAnalysisQueue,
  createQueueMetrics,
  syncAuditSchedules,
  type AnalysisQueue,
} from './jobs/index.js';
import { createLibraries } from './libraries.js';
import { createLogger, describeDatabaseUrl } from './observability/logger.js';
import { createSentryReporter, type ErrorReporter } from './observability/sentry.js';

const require = createRequire(import.meta.url);
const packageJson = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

/** `api` (HTTP only; jobs run on workers), `worker` (jobs only, no API), `all`. */
export type Role = 'api' | 'worker' | 'all';

/** What a caller changes in the composition; production passes only the role. */
export interface ComposeOverrides {
  /** @default 'all' */
  role?: Role;
  /** Extra routes on the v1 API router (test-only slow or throwing handlers). */
  extraApiRoutes?: AppDeps['extraApiRoutes'];
  /** The logger. @default pino at `config.logLevel`, with the role as a field */
  logger?: Logger;
}

/** One thing to close at shutdown; the list is closed in order, each step whatever the one before it did. */
export interface Closer {
  /** Named in the log when closing fails: "closing <what> failed". */
  what: string;
  close: () => unknown;
}

/** What one process runs. */
export interface Composition {
  role: Role;
  logger: Logger;
  lifecycle: Lifecycle;
  /** The HTTP listener: the API (roles api and all) or the worker's probes and /metrics (role worker). */
  listener: RequestListener;
  /** The port the listener takes: `config.port`, or `config.workerPort` for a worker. */
  port: number;
  /** The database the migrations run on (the embedded one when DATABASE_URL is unset). */
  databaseUrl: string;
  /** Work that needs the schema: seeds the demo, syncs the audit schedules where jobs run. */
  afterMigrate(): Promise<void>;
  /** Everything to close after the listener is drained, in order. */
  closers: Closer[];
}

/** Builds everything a process of `role` runs from `config`. Connections open lazily; nothing listens yet. */
export async function compose(config: Config, overrides: ComposeOverrides = {}): Promise<Composition> {
  const role = overrides.role ?? 'all';
  const logger =
    overrides.logger ?? createLogger({ level: config.logLevel, pretty: canPrettyPrint(config) }).child({ role });
  const lifecycle = createLifecycle();
  const startedAt = Date.now();
  if (config.defaulted.length > 0) {
    logger.warn(
      { variables: config.defaulted },
      `NODE_ENV=${config.nodeEnv} on loopback: unset variables use development defaults (secrets generated in the data folder)`,
    );
  }

  let embedded: EmbeddedPostgres | undefined;
  let releaseDataDir: (() => void) | undefined;
  let databaseUrl = config.databaseUrl;
  if (!databaseUrl) {
    const dataDir = resolve(config.dataDir);
    releaseDataDir = lockDataDir(dataDir);
    embedded = await startEmbeddedPostgres({ dataDir, maxConnections: config.db.poolMax + 4 });
    databaseUrl = embedded.url;
  }
  const db: Database = createDatabase({
    url: databaseUrl,
    max: config.db.poolMax,
    maxWaiting: config.db.maxWaiting,
    connectionTimeoutMs: config.db.connectionTimeoutMs,
    statementTimeoutMs: config.db.statementTimeoutMs,
    logger,
  });
  const libs = createLibraries({
    db,
    logger,
    redisUrl: config.redisUrl,
    enableMetrics: config.enableMetrics,
    sessionSecret: config.sessionSecret,
    isProduction: config.isProduction,
    rateLimitTimeoutMs: config.rateLimitTimeoutMs,
  });
  const { metrics, cache, rateLimit } = libs;
  const backendKind = libs.backend;
  logger.info(
    {
      database: embedded
        ? { kind: 'pglite', dataDir: embedded.dataDir, version: embedded.version, url: embedded.url }
        : { kind: 'postgres', url: describeDatabaseUrl(databaseUrl) },
      cache: config.redisUrl ? 'redis (memory while Redis is unavailable)' : 'memory',
      rateLimit: config.redisUrl ? 'redis (memory fallback while Redis is unavailable)' : 'memory',
      metrics: config.enableMetrics ? 'on' : 'off',
    },
    'backends',
  );

  const reporter: ErrorReporter | undefined = config.sentryDsn
    ? await createSentryReporter({
        dsn: config.sentryDsn,
        environment: config.nodeEnv,
        release: packageJson.version,
        logger,
      })
    : undefined;

  // analysis_queue_jobs{state}, analysis_jobs_total{outcome}, analysis_job_retries_total, analysis_job_duration_seconds.
  const queueMetrics = metrics ? createQueueMetrics(metrics.metrics) : undefined;
  // With Redis, GHL's per-location budget (100 per 10 s) is shared by every API and worker process.
  const ghlLimiterRedis = config.redisUrl
    ? new Redis(config.redisUrl, { maxRetriesPerRequest: 1, enableOfflineQueue: false })
    : undefined;
  ghlLimiterRedis?.on('error', () => undefined);
  // Analyses run on worker threads with a time budget: no definition can stall this process's event loop.
  const analysisRunner = createAnalysisPool({
    threads: config.analysis.threads,
    timeBudgetMs: config.analysis.timeBudgetMs,
  });
  // GHL connection and workflow analysis. Demo mode (development, no GHL credentials) runs our fake GHL in-process.
  const ghl = await createWorkflowModule({
    db,
    logger,
    isProduction: config.isProduction,
    sessionSecret: config.sessionSecret,
    frontendUrl: config.frontendUrl,
    ghl: {
      ...config.ghl,
      redirectUri:
        config.ghl.redirectUri ??
        `http://${config.host === '0.0.0.0' ? '127.0.0.1' : config.host}:${config.port}/auth/ghl/callback`,
      webhookPublicKey: config.ghl.webhookPublicKey ? parseWebhookPublicKey(config.ghl.webhookPublicKey) : undefined,
    },
    encryption: {
      keys: { ...config.encryption.previousKeys, [config.encryption.keyId]: config.encryption.key },
      currentKeyId: config.encryption.keyId,
    },
    cache,
    principals: cache,
    users: libs.users,
    limiter: ghlLimiterRedis ? createRedisGhlRateLimiter({ redis: ghlLimiterRedis }) : undefined,
    // ghl_api_* (the external-API factory) and workflow_analysis_* on the app's registry.
    ...(metrics ? createWorkflowMetrics(metrics.metrics) : {}),
    demo: config.demoMode ? { fixturesDir: demoWorkflowsDir() } : undefined,
    // Background analyses: BullMQ queue `analysis` on REDIS_URL, else in-process (src/jobs).
    analysisQueue: (service) => {
      const queue: AnalysisQueue = createAnalysisQueue({
        redisUrl: config.redisUrl,
        // The `api` role only queues and reads jobs; workers (and `all`) run them, scheduled audits included.
        processor: role === 'api' ? undefined : analysisProcessor(service, { db }),
        auditor: role === 'api' ? undefined : auditProcessor({ service, db, queue: () => queue, logger }),
        concurrency: config.queue.concurrency,
        stalledIntervalMs: config.queue.stalledIntervalMs,
        prefix: config.queue.prefix,
        onAttempt: queueMetrics?.onAttempt,
      });
      queueMetrics?.observe(queue);
      return queue;
    },
    analysisBudget: createAnalysisBudget({ limiter: rateLimit.limiter, users: libs.users }),
    analysisRunner,
    audits: config.audit,
    jobEventsMaxLifetimeMs: config.jobEventsMaxLifetimeMs,
  });
  // Scheduled audits follow the configuration (AUDIT_CRON): every connected location, or none when unset.
  const syncAudits = async () => {
    const { scheduled, removed } = await syncAuditSchedules({ db, queue: ghl.queue, audit: config.audit });
    logger.info(
      { scheduled, removed, cron: config.audit?.cron ?? null, timeZone: config.audit?.timeZone ?? null },
      config.audit ? 'scheduled audits' : 'scheduled audits off',
    );
  };
  const billing = createBilling({
    db,
    logger,
    stripe: createStripeClient({ secretKey: config.stripe.secretKey, apiBaseUrl: config.stripe.apiBaseUrl }),
    prices: config.stripe.prices,
    webhookSecrets: config.stripe.webhookSecrets,
    pastDueGraceMs: config.stripe.pastDueGraceDays * 86_400_000,
    successUrl: `${config.frontendUrl}/billing/success?session_id={CHECKOUT_SESSION_ID}`,
    cancelUrl: `${config.frontendUrl}/billing`,
    portalReturnUrl: `${config.frontendUrl}/billing`,
    hooks: {
      ...metrics?.billingHooks,
      // The rate limiter and the workflow service read the tier from the cached user:{locationId} record: drop it so
      // the next request gets the new limits and retention.
      onTierChanged: (locationId) => {
        libs.users
          .invalidate(locationId)
          .catch((error: unknown) =>
            logger.warn({ err: error, locationId }, 'invalidating the cached user record failed'),
          );
      },
    },
  });
  const closers: Closer[] = [
    { what: 'the GHL module', close: () => ghl.close() },
    { what: 'the analysis pool', close: () => analysisRunner.close() },
  ];
  const closeRest = () => {
    closers.push(
      { what: 'the GHL rate limiter connection', close: () => ghlLimiterRedis?.disconnect() },
      { what: 'the libraries', close: () => libs.close() },
      { what: 'the database pool', close: () => db.close() },
      { what: 'the embedded database', close: () => embedded?.close() },
      { what: 'the data folder lock', close: () => releaseDataDir?.() },
      { what: 'the error reporter', close: () => reporter?.flush(500) },
    );
  };
  if (role === 'worker') {
    closeRest();
    return {
      role,
      logger,
      lifecycle,
      listener: createWorkerApp({
        lifecycle,
        logger,
        metrics,
        internalToken: config.internalToken,
        isProduction: config.isProduction,
        metricsPublic: config.metricsPublic,
      }),
      port: config.workerPort,
      databaseUrl,
      // A worker that cannot sync the schedules still runs jobs; the next start (or a connect) schedules again.
      afterMigrate: () =>
        syncAudits().catch((error: unknown) => logger.error({ err: error }, 'syncing the audit schedules failed')),
      closers,
    };
  }
  const retention =
    config.stripe.retentionPurgeIntervalMs > 0
      ? startRetentionJob(db, { intervalMs: config.stripe.retentionPurgeIntervalMs, logger })
      : undefined;
  // Sessions past their expiry or idle timeout are deleted every SESSION_SWEEP_INTERVAL_MS, hourly by default (verify
  // already refuses them).
  const sweep = setInterval(() => {
    sweepSessions(db)
      .then((deleted) => {
        if (deleted > 0) logger.debug({ deleted }, 'expired sessions swept');
      })
      .catch((error: unknown) => logger.warn({ err: error }, 'sweeping expired sessions failed'));
  }, config.sessionSweepIntervalMs).unref();
  closers.push(
    { what: 'the retention job', close: () => retention?.stop() },
    { what: 'the session sweep', close: () => clearInterval(sweep) },
  );
  closeRest();

  const app = createApp({
    billing,
    config,
    logger,
    db,
    lifecycle,
    startedAt,
    versions: {
      app: packageJson.version,
      node: process.version,
      express: (require('express/package.json') as { version: string }).version,
      ...(embedded ? { pglite: embedded.version } : {}),
    },
    backends: { database: embedded ? 'pglite' : 'postgres', cache: backendKind, rateLimit: backendKind },
    metrics,
    cache,
    rateLimit,
    reportError: reporter ? (error, requestId) => reporter.capture(error, requestId) : undefined,
    extraApiRoutes: overrides.extraApiRoutes,
    ghl: ghl.routers,
    documentedRoutes: ghl.openapi.routes,
  });
  return {
    role,
    logger,
    lifecycle,
    listener: requestListener(app, { metrics }),
    port: config.port,
    databaseUrl,
    async afterMigrate() {
      await ghl.afterMigrate();
      if (role === 'all')
        await syncAudits().catch((error: unknown) =>
          logger.error({ err: error }, 'syncing the audit schedules failed'),
        );
    },
    closers,
  };
}

function canPrettyPrint(config: Config): boolean {
  if (config.isProduction || !process.stdout.isTTY) return false;
  try {
    require.resolve('pino-pretty');
    return true;
  } catch {
    return false;
  }
}
