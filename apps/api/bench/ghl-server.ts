// The benchmark target for `pnpm --filter api bench:ghl`: the real app (createApp as in production, with the GHL
// module, @org/cache in memory and the fake GHL in-process as GHL), a seeded location, its tokens and a session.
// Prints `READY <port> <cookie> <workflowId>` on stdout.
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { createCache } from '@org/cache';
import { createSessionStore } from '../src/auth/sessions.js';
import { createDatabase } from '../src/db/database.js';
import { fakeLocationsFromFolder, startFakeGhl } from '../fakes/ghl/server.js';
import { createWorkflowModule } from '../src/features/workflows/module.js';
import { createApp } from '../src/app/create-app.js';
import { createLifecycle } from '../src/http/lifecycle.js';
import { listen, portOf } from '../src/http/server.js';
import { createLogger } from '../src/observability/logger.js';
import { upsertAccountAndLocation } from '../src/routes/auth-ghl.js';

const SESSION_SECRET = 'bench-session-secret-0123456789abcdef';
const LOC = 'pR7kQ2sVx9LmN4tYb3Hc';
const fixtures = fileURLToPath(new URL('../fakes/ghl/workflows', import.meta.url));
const locations = fakeLocationsFromFolder(fixtures);
const fake = await startFakeGhl({ locations });
const logger = createLogger({ level: 'info', destination: new Writable({ write: (_c, _e, cb) => cb() }) });
const db = createDatabase({ url: process.env.BENCH_DATABASE_URL!, logger, max: 10 });
const cache = createCache({ prefix: 'bench' });
const ghl = await createWorkflowModule({
  db,
  logger,
  isProduction: true,
  sessionSecret: SESSION_SECRET,
  frontendUrl: 'https://app.example.test',
  ghl: {
    clientId: 'fake-client-id',
    clientSecret: 'fake-client-secret',
    apiBaseUrl: fake.url,
    authorizeUrl: `${fake.url}/oauth/chooselocation`,
    redirectUri: 'https://app.example.test/cb',
    builderBaseUrl: fake.url,
  },
  encryption: { keys: { k1: Buffer.alloc(32, 1) }, currentKeyId: 'k1' },
  cache,
});
const lifecycle = createLifecycle();
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
  backends: { database: 'postgres', cache: 'memory', rateLimit: 'none' },
  ghl: ghl.routers,
  extraApiRoutes(router) {
    router.get('/cpu', (_req, res) => void res.json(process.cpuUsage()));
  },
});
const accountId = await db.transaction(async (q) => {
  const id = await upsertAccountAndLocation(q, { companyId: 'bench', locationId: LOC });
  await ghl.tokens.save(q, { ...fake.grant(LOC), locationId: LOC });
  return id;
});
const cookie = await createSessionStore(db, SESSION_SECRET).create(accountId, LOC, 3_600_000);
const server = await listen(app, { port: 0, host: '127.0.0.1', headersTimeoutMs: 10_000, requestTimeoutMs: 30_000 });
lifecycle.markReady();
const workflowId = String(locations[LOC]!.workflows.find((w) => w.name === 'Patient Reactivation - 12 Months')!.id);
console.log(`READY ${portOf(server)} __Host-session=${encodeURIComponent(cookie)} ${workflowId}`);
