// An API key does only what its scopes allow: every route that runs an analysis (POST /analyze, its async form,
// POST /analyses/batch, GET /locations/current/health) refuses a key without the `analysis` scope with 403
// INSUFFICIENT_SCOPE, before anything runs or is charged; a key with it, and a session (every scope), get through.
// The OpenAPI document advertises that 403 on each of those operations. Over HTTP against src/main.ts in demo mode.
import { hasSharedPostgres } from '@org/test-services';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKeyStore } from '../../src/auth/api-keys.js';
import { DEMO_LOCATION, DEMO_WORKFLOW, startSecurityApp, type SecurityApp } from '../support/security-app.js';
import { TEST_SECRETS } from '../support/app.js';

const pgUp = await hasSharedPostgres();

/** Every route that runs (or queues) an analysis, with the status a permitted caller gets. */
const ANALYSIS_ROUTES = [
  {
    method: 'POST',
    path: '/api/analyze',
    body: { workflowId: DEMO_WORKFLOW },
    ok: 200,
    operationId: 'analyzeWorkflow',
    docPath: '/analyze',
  },
  {
    method: 'POST',
    path: '/v1/api/analyze',
    body: { workflowId: DEMO_WORKFLOW, async: true },
    ok: 202,
    operationId: 'analyzeWorkflow',
    docPath: '/analyze',
  },
  {
    method: 'POST',
    path: '/api/analyses/batch',
    body: { workflowIds: [DEMO_WORKFLOW] },
    ok: 202,
    operationId: 'analyzeBatch',
    docPath: '/analyses/batch',
  },
  {
    method: 'GET',
    path: '/api/locations/current/health',
    ok: 200,
    operationId: 'locationHealth',
    docPath: '/locations/current/health',
  },
] as const;

describe.skipIf(!pgUp)('API key scopes on the routes that run analyses', () => {
  let app: SecurityApp;
  let accountId: string;
  const keyFor = async (scopes: ('analysis' | 'billing')[]) =>
    (
      await createApiKeyStore(app.pg.pool as never, TEST_SECRETS.sessionSecret).create({
        accountId,
        locationId: DEMO_LOCATION,
        name: `svc-${scopes.join('-') || 'none'}`,
        scopes,
      })
    ).key;
  const call = async (route: (typeof ANALYSIS_ROUTES)[number], headers: Record<string, string>) => {
    const res = await fetch(`${app.base}${route.path}`, {
      method: route.method,
      headers: { ...headers, ...('body' in route ? { 'content-type': 'application/json' } : {}) },
      body: 'body' in route ? JSON.stringify(route.body) : undefined,
    });
    return {
      status: res.status,
      body: (await res.json()) as { success: boolean; error?: { code: string; message: string; requestId: string } },
    };
  };
  const analyses = async () =>
    Number(
      (await app.pg.pool.query('SELECT count(*) AS n FROM analysis_results WHERE location_id = $1', [DEMO_LOCATION]))
        .rows[0].n,
    );

  beforeAll(async () => {
    app = await startSecurityApp('sec_scopes');
    await app.login();
    const { rows } = await app.pg.pool.query('SELECT account_id FROM locations WHERE id = $1', [DEMO_LOCATION]);
    accountId = rows[0].account_id;
    // Enterprise: the tier's analysis budget is not what refuses anything here.
    await app.pg.pool.query(
      "INSERT INTO stripe_customers (location_id, customer_id, status, tier) VALUES ($1, 'cus_scopes', 'active', 'enterprise')",
      [DEMO_LOCATION],
    );
  }, 120_000);
  afterAll(async () => app?.stop());

  it('a key without the analysis scope (billing only, or none) is refused with 403 INSUFFICIENT_SCOPE and runs nothing', async () => {
    const before = await analyses();
    for (const scopes of [['billing'], []] as ('analysis' | 'billing')[][]) {
      const key = await keyFor(scopes);
      for (const route of ANALYSIS_ROUTES) {
        const res = await call(route, { authorization: `Bearer ${key}` });
        expect(res.status, `${route.method} ${route.path} with scopes [${scopes}]`).toBe(403);
        expect(res.body).toMatchObject({
          success: false,
          error: { code: 'INSUFFICIENT_SCOPE', message: 'This API key lacks the "analysis" scope' },
        });
        expect(res.body.error!.requestId).toBeTruthy();
      }
      // Reading stays open to any key of the location: scopes guard what runs analyses, not what reads them.
      expect((await fetch(`${app.base}/api/history`, { headers: { authorization: `Bearer ${key}` } })).status).toBe(
        200,
      );
    }
    expect(await analyses()).toBe(before);
  });

  it('a key with the analysis scope and a session both get through', async () => {
    const key = await keyFor(['analysis']);
    for (const route of ANALYSIS_ROUTES)
      expect(
        (await call(route, { authorization: `Bearer ${key}` })).status,
        `${route.method} ${route.path} (key)`,
      ).toBe(route.ok);
    const cookie = await app.login();
    for (const route of ANALYSIS_ROUTES)
      expect((await call(route, { cookie })).status, `${route.method} ${route.path} (session)`).toBe(route.ok);
  });

  it('the OpenAPI document lists 403 INSUFFICIENT_SCOPE and x-api-key-scope on every operation that needs a scope', async () => {
    const doc = (await (await fetch(`${app.base}/openapi.json`)).json()) as {
      paths: Record<
        string,
        Record<
          string,
          { operationId?: string; 'x-api-key-scope'?: string; responses: Record<string, { $ref?: string }> }
        >
      >;
      components: { responses: Record<string, unknown> };
    };
    const resolve = (response: { $ref?: string } | undefined) =>
      response?.$ref ? doc.components.responses[response.$ref.split('/').pop()!] : response;
    for (const route of ANALYSIS_ROUTES) {
      const operation = Object.entries(doc.paths).find(([path]) => path.endsWith(route.docPath))?.[1]?.[
        route.method.toLowerCase()
      ];
      expect(operation?.operationId, route.docPath).toBe(route.operationId);
      expect(JSON.stringify(resolve(operation!.responses['403'])), route.docPath).toContain('INSUFFICIENT_SCOPE');
      expect(operation!['x-api-key-scope'], route.docPath).toBe('analysis');
    }
    // Billing actions name theirs too; reading routes name none.
    for (const path of ['/subscription/checkout', '/subscription/portal']) {
      expect(Object.entries(doc.paths).find(([p]) => p.endsWith(path))?.[1]?.post?.['x-api-key-scope'], path).toBe(
        'billing',
      );
    }
    expect(
      Object.entries(doc.paths).find(([p]) => p.endsWith('/history'))?.[1]?.get?.['x-api-key-scope'],
    ).toBeUndefined();
  });
});
