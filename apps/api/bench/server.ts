// One benchmark target in its own process (so the load generator does not share its CPU):
//   full: the real createApp pipeline (pino-http logging, helmet, CORS, compression, JSON parsing, session auth
//         against PostgreSQL) serving a cached JSON body;
//   bare: express() returning the same body.
// Prints `READY <port> <cookie>` on stdout.
import { Writable } from 'node:stream';
import express from 'express';
import { requireAuth } from '../src/auth/middleware.js';
import { createSessionStore } from '../src/auth/sessions.js';
import { createDatabase } from '../src/db/database.js';
import { createApp } from '../src/http/create-app.js';
import { createLifecycle } from '../src/http/lifecycle.js';
import { listen, portOf } from '../src/http/server.js';
import { createLogger } from '../src/observability/logger.js';
import { BODY } from './body.js';

const mode = process.argv[2];
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
  const app = createApp({
    config: { isProduction: true, frontendUrl: 'https://app.example.test', trustProxyHops: 0, sessionSecret: SESSION_SECRET, internalToken: 'bench-internal-token-0123456789' },
    logger,
    db,
    lifecycle,
    versions: { app: 'bench' },
    backends: { database: 'postgres', cache: 'none', rateLimit: 'none' },
    extraApiRoutes(router) {
      // The cached list: until @org/cache is wired, the cached value is a precomputed body held in memory.
      // BENCH_NO_AUTH drops the session check to measure its share.
      // CPU time of this process, read before and after each run: CPU per request is robust to a noisy machine.
      router.get('/cpu', (_req, res) => {
        res.json(process.cpuUsage());
      });
      router.get('/workflows', ...(process.env.BENCH_NO_AUTH ? [] : [requireAuth]), (_req, res) => {
        res.json(BODY);
      });
    },
  });
  const { rows } = await db.query<{ id: string }>("INSERT INTO accounts (email) VALUES ('bench@example.test') ON CONFLICT DO NOTHING RETURNING id");
  const accountId = rows[0]?.id ?? (await db.query<{ id: string }>("SELECT id FROM accounts WHERE lower(email) = 'bench@example.test'")).rows[0]!.id;
  await db.query("INSERT INTO locations (id, account_id) VALUES ('loc-bench', $1) ON CONFLICT DO NOTHING", [accountId]);
  const cookieValue = await createSessionStore(db, SESSION_SECRET).create(accountId, 'loc-bench', 3_600_000);
  const server = await listen(app, { port: 0, host: '127.0.0.1', headersTimeoutMs: 10_000, requestTimeoutMs: 30_000 });
  lifecycle.markReady();
  console.log(`READY ${portOf(server)} __Host-session=${encodeURIComponent(cookieValue)}`);
} else {
  console.error('usage: server.ts full|bare');
  process.exit(2);
}
