import type { KeyObject } from 'node:crypto';
import type { Server } from 'node:http';
import type { UserRecords } from '../../src/features/billing/user-record.js';
import { createDatabase, type Database, type Queryable } from '../../src/db/database.js';
import { fileURLToPath } from 'node:url';
import { fakeLocationsFromFolder, type FakeGhl, type FakeLocation } from '../../fakes/ghl/server.js';
import { createOAuthClient } from '../../src/ghl/oauth.js';
import { createTokenCipher } from '../../src/ghl/token-crypto.js';
import { createTokenStore, type TokenStore } from '../../src/ghl/token-store.js';
import {
  createWorkflowModule,
  type WorkflowModule,
  type WorkflowModuleOptions,
} from '../../src/features/workflows/module.js';
import { createApp, type AppDeps } from '../../src/app/create-app.js';
import { createLifecycle } from '../../src/http/lifecycle.js';
import { drain, listen, portOf } from '../../src/http/server.js';
import { createLogger } from '../../src/observability/logger.js';
import type { WorkflowCache } from '../../src/features/workflows/cache.js';
import { LogCapture, TEST_SECRETS } from './test-app.js';

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

export const TEST_ENCRYPTION_KEY = Buffer.from(TEST_SECRETS.encryptionKeyHex, 'hex');

export interface GhlTestApp {
  base: string;
  server: Server;
  db: Database;
  module: WorkflowModule;
  queries: LoggedQuery[];
  logs: LogCapture;
  close(): Promise<void>;
}

/** The real app (createApp + createWorkflowModule) on 127.0.0.1:0, talking to `fake` as its GHL. */
export async function startGhlTestApp(options: {
  url: string;
  fake: FakeGhl;
  clientId?: string;
  clientSecret?: string;
  webhookPublicKey?: KeyObject;
  cache?: WorkflowCache;
  /** The tier records (the rate limiter's, on the app's cache), built on the app's database. @default database reads */
  users?: (db: Database) => Pick<UserRecords, 'get'>;
  isProduction?: boolean;
  demo?: { fixturesDir: string };
  builder?: boolean;
  /** The background analysis queue (src/jobs). @default the module's in-process queue */
  analysisQueue?: WorkflowModuleOptions['analysisQueue'];
  /** Batch items charged to the tier's analysis limit (createAnalysisBudget). @default none */
  analysisBudget?: WorkflowModuleOptions['analysisBudget'];
  /** Rate-limit middleware (createApiRateLimit). @default none */
  rateLimit?: AppDeps['rateLimit'];
}): Promise<GhlTestApp> {
  const logs = new LogCapture();
  const logger = createLogger({ level: 'debug', destination: logs });
  const queries: LoggedQuery[] = [];
  const inner = createDatabase({ url: options.url, logger, connectionTimeoutMs: 2_000, statementTimeoutMs: 10_000 });
  const db = recordingDatabase(inner, queries);
  const lifecycle = createLifecycle();
  const module = await createWorkflowModule({
    db,
    logger,
    isProduction: options.isProduction ?? false,
    sessionSecret: TEST_SECRETS.sessionSecret,
    frontendUrl: 'https://app.example.test',
    ghl: {
      clientId: options.clientId ?? 'fake-client-id',
      clientSecret: options.clientSecret ?? 'fake-client-secret',
      apiBaseUrl: options.fake.url,
      authorizeUrl: `${options.fake.url}/oauth/chooselocation`,
      redirectUri: 'http://127.0.0.1:1/auth/ghl/callback',
      webhookPublicKey: options.webhookPublicKey,
      builderBaseUrl: options.builder === false ? undefined : options.fake.url,
    },
    encryption: { keys: { k1: TEST_ENCRYPTION_KEY }, currentKeyId: 'k1' },
    cache: options.cache,
    users: options.users?.(db),
    demo: options.demo,
    ghlTimeoutMs: 5_000,
    analysisQueue: options.analysisQueue,
    analysisBudget: options.analysisBudget,
  });
  const app = createApp({
    config: {
      isProduction: options.isProduction ?? false,
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
    ghl: module.routers,
    rateLimit: options.rateLimit,
  });
  const server = await listen(app, { port: 0, host: '127.0.0.1', headersTimeoutMs: 5_000, requestTimeoutMs: 20_000 });
  await module.afterMigrate();
  lifecycle.markReady();
  return {
    base: `http://127.0.0.1:${portOf(server)}`,
    server,
    db,
    module,
    queries,
    logs,
    async close() {
      await drain(server, 1_000);
      await module.close();
      await inner.close().catch(() => {});
    },
  };
}

/** A session cookie for `locationId` (seeded account and location), as the OAuth callback would set it. */
export async function sessionFor(app: GhlTestApp, accountId: string, locationId: string): Promise<string> {
  const { createSessionStore } = await import('../../src/auth/sessions.js');
  const value = await createSessionStore(app.db, TEST_SECRETS.sessionSecret).create(accountId, locationId, 3_600_000);
  return `session=${encodeURIComponent(value)}`;
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
