// The process around the composition: reads the environment, listens, migrates, handles signals and shuts down, the
// same way for every role. The entry files (main.ts, worker.ts) only call `runEntry`; nothing here starts on import.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { compose, type Closer, type Composition, type Role } from './compose.js';
import { ConfigError, loadConfig, type Config } from './config/config.js';
import { developmentSecretsIn } from './config/development-secrets.js';
import { migrate } from './db/migrations.js';
import type { AppDeps } from './app/create-app.js';
import { drain, listen, portOf } from './http/server.js';

export type { Role };

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

/** Hooks for tests that run the real composition root in a child process; production passes nothing. */
export interface StartOptions {
  /** Extra routes on the v1 API router (test-only slow or throwing handlers). */
  extraApiRoutes?: AppDeps['extraApiRoutes'];
  /** `api` (HTTP only; jobs run on workers), `worker` (jobs only, no HTTP), `all`. @default `--role` argument, else 'all' */
  role?: Role;
}

/** `--role api|worker|all` (or `--role=...`) from the command line; 'all' when absent. */
export function roleFromArgv(argv: readonly string[]): Role {
  const at = argv.findIndex((a) => a === '--role' || a.startsWith('--role='));
  if (at < 0) return 'all';
  const value = argv[at]!.includes('=') ? argv[at]!.slice('--role='.length) : argv[at + 1];
  if (value === 'api' || value === 'worker' || value === 'all') return value;
  console.error(`Invalid --role ${value ?? ''}: expected api, worker or all`);
  process.exit(1);
}

/** How a role stops: the API drains its requests first, a worker lets its running jobs finish first. */
function stopPlan(composition: Composition, config: Config, server: Parameters<typeof drain>[0]) {
  const { logger } = composition;
  if (composition.role === 'worker') {
    return {
      starting: (signal: string) => logger.info({ signal }, 'worker shutting down: finishing the running jobs'),
      delayMs: 0,
      // BullMQ's Worker.close (the GHL module's queue) waits for the running jobs; past the bound the process exits and
      // the unfinished jobs go back to the queue through stalled-job recovery.
      exitAfterMs: config.drainTimeoutMs + 900,
      timedOut: () =>
        logger.warn('worker shutdown timeout: exiting; unfinished jobs are recovered as stalled by the other workers'),
      closers: [
        ...composition.closers,
        { what: 'the probe server', close: () => drain(server, 1_000) },
      ] satisfies Closer[],
      stopped: 'worker stopped',
    };
  }
  return {
    starting: (signal: string) =>
      logger.info(
        { signal, drainTimeoutMs: config.drainTimeoutMs },
        'shutting down: /ready now answers 503, draining requests',
      ),
    delayMs: config.shutdownDelayMs,
    exitAfterMs: config.shutdownDelayMs + config.drainTimeoutMs + 900,
    timedOut: () => logger.error('shutdown did not finish within the drain timeout; exiting'),
    closers: [
      {
        what: 'the HTTP server',
        close: async () => {
          if (!(await drain(server, config.drainTimeoutMs)))
            logger.warn('drain timeout reached: remaining connections were closed');
        },
      },
      ...composition.closers,
    ] satisfies Closer[],
    stopped: 'stopped',
  };
}

/**
 * The one shutdown of every role, on SIGTERM or SIGINT: /ready turns 503, the role's wait, then every closer in order
 * (each step runs whatever the one before it did: a close that fails is logged, never left to the exit timer), exit 0.
 * Whatever hangs, the process exits (1) within the role's bound.
 */
function shutdownOnSignals(composition: Composition, plan: ReturnType<typeof stopPlan>): { stopping(): boolean } {
  const { logger } = composition;
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    composition.lifecycle.markDraining();
    plan.starting(signal);
    setTimeout(() => {
      plan.timedOut();
      process.exit(1);
    }, plan.exitAfterMs).unref();
    if (plan.delayMs > 0) await new Promise((r) => setTimeout(r, plan.delayMs));
    for (const step of plan.closers) {
      try {
        await step.close();
      } catch (error) {
        logger.warn({ err: error }, `closing ${step.what} failed`);
      }
    }
    logger.info(plan.stopped);
    process.exit(0);
  };
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));
  process.on('unhandledRejection', (reason) => logger.error({ err: reason }, 'unhandled promise rejection'));
  return { stopping: () => stopping };
}

/** Reads the configuration, composes the role, listens, migrates and wires shutdown. */
export async function start(options: StartOptions = {}): Promise<void> {
  const config = readConfig();
  const role = options.role ?? roleFromArgv(process.argv.slice(2));
  // Separate workers share the queue (Redis) and the database; the embedded ones belong to a single process.
  if (role !== 'all' && (!config.redisUrl || !config.databaseUrl)) {
    console.error(
      `--role ${role} needs REDIS_URL and DATABASE_URL (shared by API and worker processes); without them run --role all`,
    );
    process.exit(1);
  }
  const composition = await compose(config, { role, extraApiRoutes: options.extraApiRoutes });
  const { logger, lifecycle } = composition;

  // Listen before migrating: /live and /health answer at once, /ready says 503 until migrations are done.
  const server = await listen(composition.listener, {
    port: composition.port,
    host: config.host,
    headersTimeoutMs: config.headersTimeoutMs,
    requestTimeoutMs: config.requestTimeoutMs,
  });
  const { stopping } = shutdownOnSignals(composition, stopPlan(composition, config, server));
  const base = `http://${config.host === '0.0.0.0' ? '127.0.0.1' : config.host}:${portOf(server)}`;

  if (role === 'worker') {
    // The schema must be there before jobs write results: migrations take an advisory lock, so concurrent starts are
    // safe. A worker that cannot migrate fails its start.
    await migrate({ url: composition.databaseUrl, logger });
    await composition.afterMigrate();
    lifecycle.markReady();
    logger.info(
      { url: base, ready: `${base}/ready`, metrics: `${base}/metrics` },
      'worker ready: processing the analysis queue',
    );
    return;
  }

  // Migrations: retried until they succeed (the database may still be starting); /ready stays 503 meanwhile.
  for (let attempt = 1; !stopping(); attempt++) {
    try {
      const ran = await migrate({ url: composition.databaseUrl, logger });
      logger.info({ migrations: ran }, ran.length > 0 ? 'migrations applied' : 'database schema up to date');
      break;
    } catch (error) {
      const delay = Math.min(30_000, 500 * 2 ** Math.min(attempt, 6));
      logger.error(
        {
          err: { message: (error as Error).message, code: (error as { code?: string }).code },
          attempt,
          retryInMs: delay,
        },
        'migrations failed; retrying',
      );
      await new Promise((r) => setTimeout(r, delay));
    }
  }
  if (stopping()) return;
  await composition.afterMigrate();
  lifecycle.markReady();

  logger.info(
    {
      url: base,
      health: `${base}/health`,
      ready: `${base}/ready`,
      detailed: `${base}/health/detailed (needs the internal token)`,
      api: `${base}/api (also ${base}/v1/api)`,
      docs: config.enableApiDocs ? `${base}/api-docs (document: ${base}/openapi.json)` : 'off (ENABLE_API_DOCS=false)',
      metrics: config.enableMetrics
        ? `${base}/metrics${config.isProduction && !config.metricsPublic ? ' (bearer: the internal token)' : ''}`
        : 'off (ENABLE_METRICS=false)',
    },
    `api ready on ${base}  health: ${base}/health`,
  );
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
