import type { Server } from 'node:http';
import { Writable } from 'node:stream';
import type { Router } from 'express';
import { createDatabase, type Database, type DatabaseOptions } from '../../src/db/database.js';
import { createApp, requestListener, type AppDeps } from '../../src/app/create-app.js';
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

export interface TestApp {
  base: string;
  server: Server;
  db: Database;
  lifecycle: Lifecycle;
  logs: LogCapture;
  libs: Libraries | undefined;
  close(): Promise<void>;
}

/** The real app (createApp) on 127.0.0.1:0 against `url`, with test routes injected through deps. */
export async function startTestApp(options: {
  url: string;
  isProduction?: boolean;
  extraApiRoutes?: (router: Router) => void;
  db?: Partial<Omit<DatabaseOptions, 'url' | 'logger'>>;
  headersTimeoutMs?: number;
  trustProxyHops?: number;
  enableApiDocs?: boolean;
  /** The @org libraries (metrics, cache, rate limit), built by createLibraries as in main.ts. @default none */
  libraries?: Pick<LibrariesOptions, 'redisUrl' | 'enableMetrics' | 'prefixes' | 'rateLimitTimeoutMs'>;
}): Promise<TestApp> {
  const logs = new LogCapture();
  const logger = createLogger({ level: 'debug', destination: logs });
  const db = createDatabase({
    url: options.url,
    logger,
    connectionTimeoutMs: 1_000,
    statementTimeoutMs: 2_000,
    ...options.db,
  });
  const lifecycle = createLifecycle();
  const libs = options.libraries
    ? createLibraries({
        db,
        logger,
        sessionSecret: TEST_SECRETS.sessionSecret,
        isProduction: options.isProduction ?? false,
        ...options.libraries,
      })
    : undefined;
  const extra: Partial<AppDeps> = libs ? { metrics: libs.metrics, cache: libs.cache, rateLimit: libs.rateLimit } : {};
  const app = createApp({
    config: {
      isProduction: options.isProduction ?? false,
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
    extraApiRoutes: options.extraApiRoutes,
    ...extra,
  });
  const server = await listen(requestListener(app, extra), {
    port: 0,
    host: '127.0.0.1',
    headersTimeoutMs: options.headersTimeoutMs ?? 5_000,
    requestTimeoutMs: 10_000,
  });
  lifecycle.markReady();
  return {
    base: `http://127.0.0.1:${portOf(server)}`,
    server,
    db,
    lifecycle,
    logs,
    libs,
    async close() {
      await drain(server, 1_000);
      await libs?.close();
      await db.close().catch(() => {});
    },
  };
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
