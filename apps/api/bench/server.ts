// One benchmark target in its own process (so the load generator does not share its CPU):
//   full: the real createApp pipeline with the libraries as main.ts wires them (the access log, helmet, CORS,
//         compression, @org/metrics HTTP metrics, @org/tiered-rate-limit on Redis with the tier read from the cached
//         user record, JSON parsing, session auth against PostgreSQL) serving a JSON list cached by @org/cache on Redis;
//   bare: express() returning the same body.
// Prints `READY <port> <cookie>` on stdout.
import { Writable } from 'node:stream';
import express from 'express';
import { requireAuth } from '../src/auth/middleware.js';
import { createSessionStore } from '../src/auth/sessions.js';
import { createDatabase } from '../src/db/database.js';
import { defineTiers } from '@org/tiered-rate-limit';
import { CacheKeys, CacheTtls } from '../src/cache/keys.js';
import { createApp, requestListener } from '../src/app/create-app.js';
import { createCachedJsonSender } from '../src/http/cached-json.js';
import { createLibraries } from '../src/libraries.js';
import { createLifecycle } from '../src/http/lifecycle.js';
import { listen, portOf } from '../src/http/server.js';
import { createLogger } from '../src/observability/logger.js';
import { BODY } from './body.js';

const mode = process.argv[2];
// A clean exit on SIGINT lets `node --cpu-prof bench/server.ts full` write its profile (the bench itself uses SIGKILL).
process.once('SIGINT', () => process.exit(0));
const SESSION_SECRET = 'bench-session-secret-0123456789abcdef';

if (mode === 'bare') {
  const app = express();
  app.get('/api/workflows', (_req, res) => {
    res.json(BODY);
  });
  app.get('/api/cpu', (_req, res) => {
    res.json(process.cpuUsage());
  });
  const server = await listen(app, { port: 0, host: '127.0.0.1', headersTimeoutMs: 10_000, requestTimeoutMs: 30_000 });
  console.log(`READY ${portOf(server)} -`);
} else if (mode === 'full') {
  const url = process.env.BENCH_DATABASE_URL!;
  // Log lines are fully serialized (the cost is real) and then discarded instead of filling the terminal.
  const sink = new Writable({ write: (_chunk, _enc, cb) => cb() });
  const logger = createLogger({ level: 'info', destination: sink });
  const db = createDatabase({ url, logger, max: 10 });
  const lifecycle = createLifecycle();
  // The user's policies with limits out of reach: every request pays the full Redis decision and none is rejected.
  const policy = { general: { limit: 1e9, window: '1m' }, analysis: { limit: 1e9, window: '1h' } } as const;
  const libs = createLibraries({
    db,
    logger,
    redisUrl: process.env.BENCH_REDIS_URL,
    enableMetrics: true,
    cacheMode: process.env.BENCH_CACHE_MODE === 'fallback' ? 'fallback' : 'near',
    sessionSecret: SESSION_SECRET,
    isProduction: true,
    rateLimitTiers: defineTiers({
      free: { policies: policy },
      pro: { policies: policy },
      enterprise: { policies: policy },
    }),
    prefixes: { cache: `bench${process.pid}`, rateLimit: `bench${process.pid}:rl:` },
  });
  const sendCached = createCachedJsonSender();
  const app = createApp({
    config: {
      isProduction: true,
      frontendUrl: 'https://app.example.test',
      trustProxyHops: 0,
      sessionSecret: SESSION_SECRET,
      internalToken: 'bench-internal-token-0123456789',
    },
    logger,
    db,
    lifecycle,
    versions: { app: 'bench' },
    backends: { database: 'postgres', cache: libs.backend, rateLimit: libs.backend },
    metrics: libs.metrics,
    cache: libs.cache,
    rateLimit: libs.rateLimit,
    extraApiRoutes(router) {
      // The cached list: read from @org/cache (Redis) under workflows:{locationId}, as the workflows service does.
      // BENCH_NO_AUTH drops the session check to measure its share.
      // CPU time of this process, read before and after each run: CPU per request is robust to a noisy machine.
      router.get('/cpu', (_req, res) => {
        res.json(process.cpuUsage());
      });
      router.get('/workflows', ...(process.env.BENCH_NO_AUTH ? [] : [requireAuth]), async (req, res) => {
        const locationId = req.principal?.locationId ?? 'loc-bench';
        const list = await libs.cache.wrap(CacheKeys.workflows(locationId), () => BODY, CacheTtls.workflows);
        if (process.env.BENCH_RECOMPRESS) res.json(list);
        else sendCached(req, res, list);
      });
    },
  });
  const { rows } = await db.query<{ id: string }>(
    "INSERT INTO accounts (email) VALUES ('bench@example.test') ON CONFLICT DO NOTHING RETURNING id",
  );
  const accountId =
    rows[0]?.id ??
    (await db.query<{ id: string }>("SELECT id FROM accounts WHERE lower(email) = 'bench@example.test'")).rows[0]!.id;
  await db.query("INSERT INTO locations (id, account_id) VALUES ('loc-bench', $1) ON CONFLICT DO NOTHING", [accountId]);
  const cookieValue = await createSessionStore(db, SESSION_SECRET).create(accountId, 'loc-bench', 3_600_000);
  const server = await listen(requestListener(app, libs), {
    port: 0,
    host: '127.0.0.1',
    headersTimeoutMs: 10_000,
    requestTimeoutMs: 30_000,
  });
  lifecycle.markReady();
  console.log(`READY ${portOf(server)} __Host-session=${encodeURIComponent(cookieValue)}`);
} else {
  console.error('usage: server.ts full|bare');
  process.exit(2);
}
