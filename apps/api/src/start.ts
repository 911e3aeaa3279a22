// The composition root: the only module that reads the environment, opens connections, listens and handles signals.
// The entry files (main.ts, worker.ts) only call `runEntry`; nothing here starts on import.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import type { Server } from 'node:http';
import { ConfigError, loadConfig, type Config } from './config/config.js';
import { developmentSecretsIn } from './config/development-secrets.js';
import { createDatabase, type Database } from './db/database.js';
import { lockDataDir } from './db/data-dir-lock.js';
import { startEmbeddedPostgres, type EmbeddedPostgres } from './db/embedded-postgres.js';
import { migrate } from './db/migrations.js';
import { Redis } from 'ioredis';
import { demoWorkflowsDir } from './demo/demo-mode.js';
import { createGhlModule } from './features/workflows/module.js';
import { createAnalysisPool } from './features/workflows/analysis-pool.js';
import { sweepSessions } from './auth/sessions.js';
import { createRedisGhlRateLimiter } from './ghl/redis-rate-limiter.js';
import { createAnalysisBudget, createAnalysisQueue, createQueueMetrics, syncAuditSchedules, type AnalysisQueue } from './jobs/index.js';
import { analysisProcessor } from './features/workflows/analysis-job.js';
import { auditProcessor } from './features/workflows/audit.js';
import { parseWebhookPublicKey } from './ghl/webhooks.js';
import { createWorkflowMetrics } from './features/workflows/metrics.js';
import { createBilling, createStripeClient, startRetentionJob } from './features/billing/index.js';
import { createApp, requestListener, type AppDeps } from './app/create-app.js';
import { createWorkerApp } from './app/worker-app.js';
import { createLibraries } from './libraries.js';
import { createLifecycle } from './http/lifecycle.js';
import { drain, listen, portOf } from './http/server.js';
import { createLogger, describeDatabaseUrl } from './observability/logger.js';
import { createSentryReporter, type ErrorReporter } from './observability/sentry.js';

const require = createRequire(import.meta.url);
const packageJson = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };

function readConfig(): Config {
  // A .env file is optional; variables already in the environment win over it.
  const envFile = resolve(process.env.ENV_FILE ?? '.env');
  if (existsSync(envFile)) process.loadEnvFile(envFile);
  try {
    // A development server on loopback generates its secrets once per data folder (never repository constants).
    return loadConfig(process.env, { developmentSecrets: (dataDir) => developmentSecretsIn(resolve(dataDir)) });
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(1);
    }
    throw error;
  }
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

/** Hooks for tests that run the real composition root in a child process; production passes nothing. */
export interface StartOptions {
  /** Extra routes on the v1 API router (test-only slow or throwing handlers). */
  extraApiRoutes?: AppDeps['extraApiRoutes'];
  /** `api` (HTTP only; jobs run on workers), `worker` (jobs only, no HTTP), `all`. @default `--role` argument, else 'all' */
  role?: Role;
}

export type Role = 'api' | 'worker' | 'all';

/** `--role api|worker|all` (or `--role=...`) from the command line; 'all' when absent. */
export function roleFromArgv(argv: readonly string[]): Role {
  const at = argv.findIndex((a) => a === '--role' || a.startsWith('--role='));
  if (at < 0) return 'all';
  const value = argv[at]!.includes('=') ? argv[at]!.slice('--role='.length) : argv[at + 1];
  if (value === 'api' || value === 'worker' || value === 'all') return value;
  console.error(`Invalid --role ${value ?? ''}: expected api, worker or all`);
  process.exit(1);
}

/** Reads the configuration, opens the database, listens, migrates and wires shutdown. */
export async function start(options: StartOptions = {}): Promise<void> {
  const config = readConfig();
  const role = options.role ?? roleFromArgv(process.argv.slice(2));
  // Separate workers share the queue (Redis) and the database; the embedded ones belong to a single process.
  if (role !== 'all' && (!config.redisUrl || !config.databaseUrl)) {
    console.error(`--role ${role} needs REDIS_URL and DATABASE_URL (shared by API and worker processes); without them run --role all`);
    process.exit(1);
  }
  const logger = createLogger({ level: config.logLevel, pretty: canPrettyPrint(config) }).child({ role });
  const lifecycle = createLifecycle();
  const startedAt = Date.now();
  if (config.defaulted.length > 0) {
    logger.warn({ variables: config.defaulted }, `NODE_ENV=${config.nodeEnv} on loopback: unset variables use development defaults (secrets generated in the data folder)`);
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
    ? await createSentryReporter({ dsn: config.sentryDsn, environment: config.nodeEnv, release: packageJson.version, logger })
    : undefined;

  // analysis_queue_jobs{state}, analysis_jobs_total{outcome}, analysis_job_retries_total, analysis_job_duration_seconds.
  const queueMetrics = metrics ? createQueueMetrics(metrics.metrics) : undefined;
  // With Redis, GHL's per-location budget (100 per 10 s) is shared by every API and worker process.
  const ghlLimiterRedis = config.redisUrl ? new Redis(config.redisUrl, { maxRetriesPerRequest: 1, enableOfflineQueue: false }) : undefined;
  ghlLimiterRedis?.on('error', () => undefined);
  // Analyses run on worker threads with a time budget: no definition can stall this process's event loop.
  const analysisRunner = createAnalysisPool({ threads: config.analysis.threads, timeBudgetMs: config.analysis.timeBudgetMs });
  // GHL connection and workflow analysis. Demo mode (development, no GHL credentials) runs our fake GHL in-process.
  const ghl = await createGhlModule({
    db,
    logger,
    isProduction: config.isProduction,
    sessionSecret: config.sessionSecret,
    frontendUrl: config.frontendUrl,
    ghl: {
      ...config.ghl,
      redirectUri: config.ghl.redirectUri ?? `http://${config.host === '0.0.0.0' ? '127.0.0.1' : config.host}:${config.port}/auth/ghl/callback`,
      webhookPublicKey: config.ghl.webhookPublicKey ? parseWebhookPublicKey(config.ghl.webhookPublicKey) : undefined,
    },
    encryption: { keys: { ...config.encryption.previousKeys, [config.encryption.keyId]: config.encryption.key }, currentKeyId: config.encryption.keyId },
    cache,
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
  });
  // Scheduled audits follow the configuration (AUDIT_CRON): every connected location, or none when unset.
  const syncAudits = async () => {
    const { scheduled, removed } = await syncAuditSchedules({ db, queue: ghl.queue, audit: config.audit });
    logger.info({ scheduled, removed, cron: config.audit?.cron ?? null, timeZone: config.audit?.timeZone ?? null }, config.audit ? 'scheduled audits' : 'scheduled audits off');
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
        libs.users.invalidate(locationId).catch((error: unknown) => logger.warn({ err: error, locationId }, 'invalidating the cached user record failed'));
      },
    },
  });
  if (role === 'worker') {
    const probes = createWorkerApp({ lifecycle, logger, metrics, internalToken: config.internalToken, isProduction: config.isProduction, metricsPublic: config.metricsPublic });
    const server = await listen(probes, { port: config.workerPort, host: config.host, headersTimeoutMs: config.headersTimeoutMs, requestTimeoutMs: config.requestTimeoutMs });
    await runWorker({
      logger,
      lifecycle,
      url: `http://${config.host === '0.0.0.0' ? '127.0.0.1' : config.host}:${portOf(server)}`,
      drainTimeoutMs: config.drainTimeoutMs,
      databaseUrl,
      afterMigrate: syncAudits,
      close: [() => ghl.close(), () => analysisRunner.close(), async () => ghlLimiterRedis?.disconnect(), () => libs.close(), () => db.close(), () => drain(server, 1_000).then(() => undefined)],
    });
    return;
  }
  const retention = config.stripe.retentionPurgeIntervalMs > 0 ? startRetentionJob(db, { intervalMs: config.stripe.retentionPurgeIntervalMs, logger }) : undefined;
  // Sessions past their expiry or idle timeout are deleted hourly (verify already refuses them).
  const sweep = setInterval(() => {
    sweepSessions(db).catch((error: unknown) => logger.warn({ err: error }, 'sweeping expired sessions failed'));
  }, 3_600_000).unref();

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
    extraApiRoutes: options.extraApiRoutes,
    ghl: ghl.routers,
    documentedRoutes: ghl.openapi.routes,
  });

  // Listen before migrating: /live and /health answer at once, /ready says 503 until migrations are done.
  const server: Server = await listen(requestListener(app, { metrics }), {
    port: config.port,
    host: config.host,
    headersTimeoutMs: config.headersTimeoutMs,
    requestTimeoutMs: config.requestTimeoutMs,
  });

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    lifecycle.markDraining();
    logger.info({ signal, drainTimeoutMs: config.drainTimeoutMs }, 'shutting down: /ready now answers 503, draining requests');
    // Whatever hangs (a pool that will not end), the process exits within the promised bound.
    setTimeout(() => {
      logger.error('shutdown did not finish within the drain timeout; exiting');
      process.exit(1);
    }, config.shutdownDelayMs + config.drainTimeoutMs + 900).unref();
    if (config.shutdownDelayMs > 0) await new Promise((r) => setTimeout(r, config.shutdownDelayMs));
    const inTime = await drain(server, config.drainTimeoutMs);
    if (!inTime) logger.warn('drain timeout reached: remaining connections were closed');
    // Each step runs whatever the one before it did: a close that fails is logged, never left to the exit timer.
    const step = async (what: string, close: () => unknown) => {
      try {
        await close();
      } catch (error) {
        logger.warn({ err: error }, `closing ${what} failed`);
      }
    };
    await step('the GHL module', () => ghl.close());
    await step('the analysis pool', () => analysisRunner.close());
    await step('the retention job', () => retention?.stop());
    clearInterval(sweep);
    ghlLimiterRedis?.disconnect();
    await step('the libraries', () => libs.close());
    await step('the database pool', () => db.close());
    await step('the embedded database', () => embedded?.close());
    releaseDataDir?.();
    await reporter?.flush(500).catch(() => {});
    logger.info('stopped');
    process.exit(0);
  };
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));
  process.on('unhandledRejection', (reason) => logger.error({ err: reason }, 'unhandled promise rejection'));

  // Migrations: retried until they succeed (the database may still be starting); /ready stays 503 meanwhile.
  for (let attempt = 1; !stopping; attempt++) {
    try {
      const ran = await migrate({ url: databaseUrl, logger });
      logger.info({ migrations: ran }, ran.length > 0 ? 'migrations applied' : 'database schema up to date');
      break;
    } catch (error) {
      const delay = Math.min(30_000, 500 * 2 ** Math.min(attempt, 6));
      logger.error({ err: { message: (error as Error).message, code: (error as { code?: string }).code }, attempt, retryInMs: delay }, 'migrations failed; retrying');
      await new Promise((r) => setTimeout(r, delay));
    }
  }
  if (stopping) return;
  await ghl.afterMigrate();
  if (role === 'all') await syncAudits().catch((error: unknown) => logger.error({ err: error }, 'syncing the audit schedules failed'));
  lifecycle.markReady();

  const base = `http://${config.host === '0.0.0.0' ? '127.0.0.1' : config.host}:${portOf(server)}`;
  logger.info(
    {
      url: base,
      health: `${base}/health`,
      ready: `${base}/ready`,
      detailed: `${base}/health/detailed (needs the internal token)`,
      api: `${base}/api (also ${base}/v1/api)`,
      docs: config.enableApiDocs ? `${base}/api-docs (document: ${base}/openapi.json)` : 'off (ENABLE_API_DOCS=false)',
      metrics: config.enableMetrics ? `${base}/metrics${config.isProduction && !config.metricsPublic ? ' (bearer: the internal token)' : ''}` : 'off (ENABLE_METRICS=false)',
    },
    `api ready on ${base}  health: ${base}/health`,
  );
}

/**
 * The `worker` role: no HTTP server; the queue's BullMQ Worker (created with the GHL module) takes jobs. SIGTERM and
 * SIGINT close it gracefully: the running jobs finish (BullMQ's Worker.close waits for them) within the drain
 * timeout; past it the process exits and the unfinished jobs go back to the queue through stalled-job recovery.
 */
async function runWorker(deps: {
  logger: ReturnType<typeof createLogger>;
  lifecycle: ReturnType<typeof createLifecycle>;
  /** Where /live, /ready and /metrics answer. */
  url: string;
  drainTimeoutMs: number;
  databaseUrl: string;
  afterMigrate: () => Promise<void>;
  close: (() => Promise<void>)[];
}) {
  const { logger } = deps;
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    deps.lifecycle.markDraining();
    logger.info({ signal }, 'worker shutting down: finishing the running jobs');
    setTimeout(() => {
      logger.warn('worker shutdown timeout: exiting; unfinished jobs are recovered as stalled by the other workers');
      process.exit(1);
    }, deps.drainTimeoutMs + 900).unref();
    for (const close of deps.close) await close().catch((error: unknown) => logger.warn({ err: error }, 'closing failed'));
    logger.info('worker stopped');
    process.exit(0);
  };
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));
  process.on('unhandledRejection', (reason) => logger.error({ err: reason }, 'unhandled promise rejection'));
  // The schema must be there before jobs write results: migrations take an advisory lock, so concurrent starts are safe.
  await migrate({ url: deps.databaseUrl, logger });
  // A worker that cannot sync the schedules still runs jobs; the next start (or a connect) schedules again.
  await deps.afterMigrate().catch((error: unknown) => logger.error({ err: error }, 'syncing the audit schedules failed'));
  deps.lifecycle.markReady();
  logger.info({ url: deps.url, ready: `${deps.url}/ready`, metrics: `${deps.url}/metrics` }, 'worker ready: processing the analysis queue');
}

/**
 * Runs the composition root as a process entry point. A start that fails exits 1 with the reason on stderr; a process
 * whose event loop empties before the role is ready (nothing listening, nothing running) says so and exits 1 too, so an
 * entry point can never end with status 0 having started nothing.
 */
export function runEntry(options: StartOptions = {}): void {
  // `node dist/main.js --role worker` is a worker too: name it in the messages below.
  const role = options.role ?? roleFromArgv(process.argv.slice(2));
  const name = role === 'worker' ? 'worker' : 'api';
  let started = false;
  process.once('beforeExit', () => {
    if (started) return;
    console.error(`${name} exited before it was ready: nothing is listening`);
    process.exitCode = 1;
  });
  start({ ...options, role }).then(
    () => {
      started = true;
    },
    (error: unknown) => {
      console.error(`${name} failed to start:`, error instanceof Error ? error.message : error);
      process.exit(1);
    },
  );
}
