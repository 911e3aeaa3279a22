// @org/openapi wired into the real app: the one document (/api canonical, /v1/api alias, session cookie and bearer
// API key), served only when ENABLE_API_DOCS, matching the mounted routes (the package's contract helper), and
// lint-clean with redocly (recommended) and spectral (spectral:oas), run through their bins.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { compareRouterWithDocument, assertRouterMatchesDocument } from '@org/openapi';
import { hasSharedPostgres, sharedPostgres, type SharedPostgres } from '@org/test-services';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBilling, createStripeClient } from '../../src/features/billing/index.js';
import { createWorkflowModule } from '../../src/features/workflows/module.js';
import { createApp } from '../../src/app/create-app.js';
import { createLifecycle } from '../../src/http/lifecycle.js';
import { createDatabase } from '../../src/db/database.js';
import { createLogger } from '../../src/observability/logger.js';
import { startApp, TEST_SECRETS, type App } from '../support/app.js';

const pgUp = await hasSharedPostgres();
const run = promisify(execFile);
const bin = (name: string) => resolve(import.meta.dirname, '../..', 'node_modules', '.bin', name);
const env = {
  ...process.env,
  REDOCLY_TELEMETRY: 'off',
  REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true',
  NO_UPDATE_NOTIFIER: '1',
};
/** Operational endpoints, the Stripe and GHL webhooks and the OAuth install flow (browser redirects): not in the API document. */
const OPERATIONAL = [
  '/webhooks/stripe',
  '/webhooks/ghl',
  /^\/auth\//,
  '/live',
  '/health',
  '/ready',
  '/health/detailed',
  '/metrics',
  '/internal/cache-stats',
  '/openapi.json',
  '/api-docs',
];

async function output(command: string, args: string[], cwd: string): Promise<string> {
  try {
    return (await run(command, args, { cwd, env, maxBuffer: 20 * 1024 * 1024 })).stdout;
  } catch (error) {
    const { stdout } = error as { stdout?: string };
    if (stdout) return stdout;
    throw error;
  }
}

/** The real createApp with billing mounted and no I/O (the pool and Stripe are never called), for route-table checks. */
async function appOnly(enableApiDocs: boolean) {
  const logger = createLogger({ level: 'silent' });
  const db = createDatabase({ url: 'postgres://127.0.0.1:1/none', logger });
  const ghl = await createWorkflowModule({
    db,
    logger,
    isProduction: false,
    sessionSecret: TEST_SECRETS.sessionSecret,
    frontendUrl: 'https://app.example.test',
    ghl: {
      clientId: 'id',
      clientSecret: 'secret',
      apiBaseUrl: 'http://127.0.0.1:1',
      authorizeUrl: 'http://127.0.0.1:1/oauth',
      redirectUri: 'http://127.0.0.1:1/cb',
      webhookPublicKey: undefined,
      builderBaseUrl: undefined,
    },
    encryption: { keys: { k1: Buffer.alloc(32, 1) }, currentKeyId: 'k1' },
  });
  const billing = createBilling({
    db,
    logger,
    stripe: createStripeClient({ secretKey: TEST_SECRETS.stripeSecretKey, apiBaseUrl: 'http://127.0.0.1:1' }),
    prices: { pro: 'price_pro', enterprise: 'price_enterprise' },
    webhookSecrets: [TEST_SECRETS.stripeWebhookSecret],
    successUrl: 'https://app.example.test/billing/success',
    cancelUrl: 'https://app.example.test/billing',
    portalReturnUrl: 'https://app.example.test/billing',
  });
  const app = createApp({
    billing,
    ghl: ghl.routers,
    documentedRoutes: ghl.openapi.routes,
    config: {
      isProduction: false,
      frontendUrl: 'http://localhost:5173',
      trustProxyHops: 0,
      sessionSecret: TEST_SECRETS.sessionSecret,
      internalToken: TEST_SECRETS.internalToken,
      enableApiDocs,
    },
    logger,
    db,
    lifecycle: createLifecycle(),
    versions: { app: '1.2.3' },
    backends: { database: 'postgres', cache: 'none', rateLimit: 'none' },
  });
  return { app, db: { close: async () => (await ghl.close(), await db.close()) } };
}

describe('the OpenAPI document of the app', () => {
  const dir = mkdtempSync(join(tmpdir(), 'api-openapi-'));
  let document: Record<string, unknown>;
  let json: string;
  beforeAll(async () => {
    const { app, db } = await appOnly(true);
    const server = app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    const port = (server.address() as { port: number }).port;
    json = await (await fetch(`http://127.0.0.1:${port}/openapi.json`)).text();
    document = JSON.parse(json) as Record<string, unknown>;
    server.close();
    await db.close();
    writeFileSync(join(dir, 'openapi.json'), json);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('marks /api as canonical, /v1/api as a server, and declares the cookie session and bearer API key', () => {
    expect(document.servers).toEqual([
      { url: '/api', description: expect.stringContaining('Canonical') },
      { url: '/v1/api', description: expect.stringContaining('Version 1') },
    ]);
    expect(document.components).toMatchObject({
      securitySchemes: {
        session: { type: 'apiKey', in: 'cookie', name: 'session' },
        apiKey: { type: 'http', scheme: 'bearer' },
      },
    });
    expect(document.security).toEqual([{ session: [] }, { apiKey: [] }]);
  });

  it('documents every mounted API route and mounts every documented path (contract helper over the real app)', async () => {
    const { app, db } = await appOnly(true);
    const report = compareRouterWithDocument(app, document as never, { ignore: OPERATIONAL });
    expect(report.undocumented).toEqual([]);
    expect(report.unmounted).toEqual([]);
    // Not vacuous: both mounts of every operation were found.
    expect(report.operations.length).toBeGreaterThanOrEqual(10);
    expect(report.routes.map((r) => `${r.method} ${r.path}`)).toEqual(
      expect.arrayContaining([
        'GET /api/me',
        'GET /v1/api/me',
        'GET /api/subscription',
        'POST /v1/api/subscription/checkout',
        'GET /api/workflows',
        'POST /v1/api/analyze',
      ]),
    );
    expect(() => assertRouterMatchesDocument(app, document as never, { ignore: OPERATIONAL })).not.toThrow();
    void db.close();
  });

  it('passes redocly lint (recommended) and spectral lint (spectral:oas) with 0 errors and 0 warnings', async () => {
    const file = join(dir, 'openapi.json');
    const redocly = JSON.parse(
      await output(bin('redocly'), ['lint', file, '--format=json', '--extends=recommended'], dir),
    ) as { totals: { errors: number; warnings: number }; problems: { ruleId: string; message: string }[] };
    expect(redocly.problems.map((p) => `${p.ruleId}: ${p.message}`)).toEqual([]);
    expect(redocly.totals).toMatchObject({ errors: 0, warnings: 0 });
    writeFileSync(join(dir, '.spectral.yaml'), 'extends: ["spectral:oas"]\n');
    const spectral = JSON.parse(
      await output(
        bin('spectral'),
        ['lint', file, '--ruleset', join(dir, '.spectral.yaml'), '--format', 'json', '--quiet'],
        dir,
      ),
    ) as { code: string; message: string }[];
    expect(spectral.map((r) => `${r.code}: ${r.message}`)).toEqual([]);
  }, 120_000);
});

describe.skipIf(!pgUp)('docs endpoints (ENABLE_API_DOCS)', () => {
  let pg: SharedPostgres;
  const apps: App[] = [];
  beforeAll(async () => {
    pg = await sharedPostgres('api_openapi');
  });
  afterAll(async () => {
    for (const app of apps) await app.close();
    await pg?.cleanup();
  });

  it('serves /openapi.json and /api-docs when enabled, neither when disabled', async () => {
    const on = await startApp({ url: pg.url, enableApiDocs: true });
    const off = await startApp({ url: pg.url, enableApiDocs: false, isProduction: true });
    apps.push(on, off);
    const doc = await fetch(`${on.base}/openapi.json`);
    expect(doc.status).toBe(200);
    expect(((await doc.json()) as { openapi: string }).openapi).toBe('3.1.0');
    const ui = await fetch(`${on.base}/api-docs`);
    expect(ui.status).toBe(200);
    expect(ui.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect((await fetch(`${off.base}/openapi.json`)).status).toBe(404);
    expect((await fetch(`${off.base}/api-docs`)).status).toBe(404);
  });
});
