import pg from 'pg';
import { hasSharedPostgres, sharedPostgres, sharedPostgresUrl, type SharedPostgres } from '@org/test-services';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKeyStore } from '../../src/auth/api-keys.js';
import { migrate } from '../../src/db/migrations.js';
import { fileURLToPath } from 'node:url';
import { fakeLocationsFromFolder, startFakeGhl, type FakeGhl } from '../../fakes/ghl/server.js';
import { startFakeStripe, type FakeStripe } from '../../fakes/stripe/server.js';
import { createApiDocs } from '../../src/routes/api-docs.js';
import { checkoutRoute, getSubscriptionRoute, portalRoute } from '../../src/features/billing/routes.js';
import {
  PRICE_ENTERPRISE,
  PRICE_PRO,
  TEST_SECRETS,
  seedTenant,
  sessionFor,
  startApp,
  type App,
  type BillingApp,
  type GhlApp,
} from '../support/app.js';
import { DEMO_LOCATION, startSecurityApp, type SecurityApp } from '../support/security-app.js';

const pgUp = await hasSharedPostgres();

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;
type Schema = Record<string, Json>;

/**
 * Validates `value` against a JSON Schema of the document (the subset @org/openapi emits: $ref, allOf, oneOf, type,
 * enum, const, required, properties, items, additionalProperties, minimum). Returns the failures, empty when valid.
 */
function validate(doc: Json, schema: Schema, value: unknown, at = '$'): string[] {
  if (schema.$ref) return validate(doc, resolve(doc, schema.$ref), value, at);
  const failures: string[] = [];
  for (const part of schema.allOf ?? []) failures.push(...validate(doc, part, value, at));
  if (schema.oneOf && schema.oneOf.filter((s: Schema) => validate(doc, s, value, at).length === 0).length !== 1)
    failures.push(`${at}: not exactly one of oneOf`);
  if (schema.const !== undefined && value !== schema.const)
    failures.push(`${at}: expected ${JSON.stringify(schema.const)}`);
  if (schema.enum && !schema.enum.includes(value))
    failures.push(`${at}: ${JSON.stringify(value)} is not one of ${JSON.stringify(schema.enum)}`);
  const type = schema.type as string | undefined;
  const actual =
    value === null ? 'null' : Array.isArray(value) ? 'array' : Number.isInteger(value) ? 'integer' : typeof value;
  if (type && !(type === actual || (type === 'number' && actual === 'integer')))
    return [...failures, `${at}: expected ${type}, got ${actual}`];
  if (typeof value === 'number' && schema.minimum !== undefined && value < schema.minimum)
    failures.push(`${at}: below ${schema.minimum}`);
  if (actual === 'object') {
    const object = value as Record<string, unknown>;
    for (const name of schema.required ?? []) if (!(name in object)) failures.push(`${at}.${name}: required`);
    for (const [name, sub] of Object.entries(schema.properties ?? {}))
      if (name in object) failures.push(...validate(doc, sub as Schema, object[name], `${at}.${name}`));
    if (schema.additionalProperties && typeof schema.additionalProperties === 'object') {
      for (const [name, item] of Object.entries(object))
        if (!(name in (schema.properties ?? {})))
          failures.push(...validate(doc, schema.additionalProperties, item, `${at}.${name}`));
    }
  }
  if (actual === 'array' && schema.items)
    (value as unknown[]).forEach((item, i) => failures.push(...validate(doc, schema.items, item, `${at}[${i}]`)));
  return failures;
}

function resolve(doc: Json, ref: string): Json {
  return ref
    .replace(/^#\//, '')
    .split('/')
    .reduce((node: Json, key) => node[key], doc);
}

interface Sent {
  status: number;
  headers: Headers;
  body: Json;
}

async function send(
  base: string,
  method: string,
  path: string,
  init: { headers?: Record<string, string>; body?: string } = {},
): Promise<Sent> {
  const res = await fetch(`${base}/api${path}`, {
    method: method.toUpperCase(),
    headers: init.headers,
    body: init.body,
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
}

/** Asserts one answer against the document's response for that route and status; returns its label. */
function check(doc: Json, method: string, path: string, status: number, sent: Sent): string {
  const label = `${method.toUpperCase()} ${path} ${status}`;
  expect(sent.status, `${label}: ${JSON.stringify(sent.body)}`).toBe(status);
  let response = doc.paths[path][method].responses[String(status)];
  if (response.$ref) response = resolve(doc, response.$ref);
  const media = response.content['application/json'];
  expect(validate(doc, media.schema, sent.body), `${label}: ${JSON.stringify(sent.body)}`).toEqual([]);
  // Every error body carries the request id the response's X-Request-Id names.
  expect(sent.body.error.requestId, label).toBe(sent.headers.get('x-request-id'));
  for (const [name, header] of Object.entries<Json>(response.headers ?? {})) {
    const definition = header.$ref ? resolve(doc, header.$ref) : header;
    const value = sent.headers.get(name);
    expect(value, `${label}: header ${name}`).not.toBeNull();
    if (definition.schema?.type === 'integer') expect(value, `${label}: header ${name}`).toMatch(/^\d+$/);
  }
  return label;
}

const concrete = (path: string, values: Record<string, string>) =>
  path.replace(/\{(\w+)\}/g, (_m, name: string) => values[name] ?? 'missing');

/**
 * Sends, for every documented route, a request for each documented 400, 401, 403, 404, 413 and 415 this harness can
 * provoke (invalid query or malformed body, no credential, a credential without the scope, an unknown id, a body over
 * the 100 KB limit, a text/plain body) and checks each answer. Returns the labels checked.
 */
async function probeAll(
  base: string,
  doc: Json,
  own: Record<string, string>,
  auth: Record<string, string>,
  noScope: Record<string, string> | undefined,
): Promise<string[]> {
  const checked: string[] = [];
  for (const [path, item] of Object.entries<Json>(doc.paths)) {
    for (const [method, operation] of Object.entries<Json>(item)) {
      const statuses = Object.keys(operation.responses)
        .map(Number)
        .filter((s) => s >= 400);
      const url = concrete(path, own);
      const hasBody = operation.requestBody !== undefined;
      const json = { ...auth, 'content-type': 'application/json' };
      for (const status of statuses) {
        if (status === 401) checked.push(check(doc, method, path, 401, await send(base, method, url)));
        if (status === 403 && noScope) {
          // An API key without the route's scope (only routes that require a scope can answer 403).
          const sent = await send(base, method, url, { headers: noScope, ...(hasBody ? { body: '{}' } : {}) });
          if (sent.status === 403) checked.push(check(doc, method, path, 403, sent));
        }
        if (status === 404 && path.includes('{')) {
          const sent = await send(
            base,
            method,
            concrete(path, { ...own, workflowId: 'no-such-workflow', id: 'no-such-id', jobId: 'no-such-job' }),
            { headers: json, ...(hasBody ? { body: '{}' } : {}) },
          );
          if (sent.status === 404) checked.push(check(doc, method, path, 404, sent));
        }
        if (status === 400) {
          const query = (operation.parameters ?? []).find((p: Json) => p.in === 'query');
          if (hasBody)
            checked.push(
              check(doc, method, path, 400, await send(base, method, url, { headers: json, body: '{"unexpected":' })),
            );
          else if (query)
            checked.push(
              check(
                doc,
                method,
                path,
                400,
                await send(
                  base,
                  method,
                  `${url}?${query.name}=${encodeURIComponent('not-valid-'.repeat(30))}&unexpected=1`,
                  { headers: auth },
                ),
              ),
            );
        }
        if (status === 413 && hasBody)
          checked.push(
            check(
              doc,
              method,
              path,
              413,
              await send(base, method, url, { headers: json, body: JSON.stringify({ pad: 'x'.repeat(200_000) }) }),
            ),
          );
        if (status === 415 && hasBody)
          checked.push(
            check(
              doc,
              method,
              path,
              415,
              await send(base, method, url, { headers: { ...auth, 'content-type': 'text/plain' }, body: 'x' }),
            ),
          );
      }
    }
  }
  return checked;
}

describe.skipIf(!pgUp)(
  'error contract: every documented error status of every documented route, over HTTP, against /openapi.json',
  () => {
    let pg: SharedPostgres;
    let app: App;
    let doc: Json;
    let apiKey: string;
    let noScopeKey: string;
    const checked: string[] = [];

    beforeAll(async () => {
      pg = await sharedPostgres('api_error_contract');
      await migrate({ url: pg.url });
      // The real limiter (memory store), as main.ts builds it without REDIS_URL.
      app = await startApp({
        url: pg.url,
        enableApiDocs: true,
        libraries: { redisUrl: undefined, enableMetrics: false },
      });
      const tenant = await seedTenant(app.db, 'loc-contract');
      const keys = createApiKeyStore(app.db, TEST_SECRETS.sessionSecret);
      apiKey = (await keys.create({ accountId: tenant.accountId, locationId: tenant.locationId, name: 'contract' }))
        .key;
      noScopeKey = (
        await keys.create({ accountId: tenant.accountId, locationId: tenant.locationId, name: 'no-scope', scopes: [] })
      ).key;
      doc = await (await fetch(`${app.base}/openapi.json`)).json();
    });
    afterAll(async () => {
      await app?.close();
      await pg?.cleanup?.();
    });

    it('answers each documented 400, 401, 403, 404, 413 and 415 of the platform routes as documented', async () => {
      checked.push(
        ...(await probeAll(
          app.base,
          doc,
          { locationId: 'loc-contract', workflowId: 'wf-1' },
          { authorization: `Bearer ${apiKey}` },
          { authorization: `Bearer ${noScopeKey}` },
        )),
      );
      expect(checked.some((c) => c.endsWith(' 401'))).toBe(true);
      expect(checked.some((c) => c.endsWith(' 404'))).toBe(true);
    });

    it('answers the documented 429 (the rate limiter) in the error format, with requestId and the quota headers', async () => {
      const [path, item] = Object.entries<Json>(doc.paths).find(([, i]) =>
        Object.values<Json>(i).some((op) => op.responses['429']),
      )!;
      const method = Object.keys(item).find((m) => item[m].responses['429'])!;
      const own = concrete(path, { locationId: 'loc-contract', workflowId: 'wf-1' });
      let sent: Sent | undefined;
      // Anonymous: keyed by address, the free tier's 20 requests a minute.
      for (let i = 0; i < 25 && sent?.status !== 429; i++) sent = await send(app.base, method, own);
      checked.push(check(doc, method, path, 429, sent!));
      expect(sent!.body.error.code).toBe('RATE_LIMIT_EXCEEDED');
      expect(Number(sent!.headers.get('x-ratelimit-reset'))).toBeGreaterThan(Date.now() / 1000 - 1);
    });

    it('advertises only codes the app sends, and X-RateLimit-Reset as epoch seconds', () => {
      const json = JSON.stringify(doc);
      expect(json).not.toMatch(/"UNAUTHENTICATED"|"RATE_LIMITED"/);
      expect(doc.components.headers['X-RateLimit-Reset'].description).toMatch(/epoch seconds/);
      expect(checked.length).toBeGreaterThan(5);
      if (process.env.ERROR_CONTRACT_LIST) console.log(checked.join('\n'));
    });
  },
);

describe.skipIf(!pgUp)(
  'error contract of the workflow and analysis routes (fake GHL), against the app document',
  () => {
    let pg: SharedPostgres;
    let fake: FakeGhl;
    let app: GhlApp;
    let doc: Json;
    let cookie: string;
    let noScopeKey: string;
    const LOC = 'pR7kQ2sVx9LmN4tYb3Hc';

    beforeAll(async () => {
      pg = await sharedPostgres('api_error_contract_ghl');
      await migrate({ url: pg.url });
      fake = await startFakeGhl({
        locations: fakeLocationsFromFolder(fileURLToPath(new URL('../../fakes/ghl/workflows', import.meta.url))),
      });
      app = await startApp({ url: pg.url, ghl: { fake } });
      const tenant = await seedTenant(app.db, LOC);
      await app.module.tokens.save(app.db, { ...fake.grant(LOC), locationId: LOC });
      cookie = await sessionFor(app, tenant.accountId, LOC);
      noScopeKey = (
        await createApiKeyStore(app.db, TEST_SECRETS.sessionSecret).create({
          accountId: tenant.accountId,
          locationId: LOC,
          name: 'no-scope',
          scopes: [],
        })
      ).key;
      // The document main.ts serves: the same createApiDocs over the module's documented routes.
      doc = createApiDocs({
        enabled: true,
        sessionCookieName: 'session',
        routes: app.module.openapi.routes,
        version: 'test',
      }).openapi.document;
    });
    afterAll(async () => {
      await app?.close();
      await fake?.close();
      await pg?.cleanup();
    });

    it('answers each documented 400, 401, 403, 404, 413 and 415 as documented', async () => {
      const checked = await probeAll(
        app.base,
        doc,
        { locationId: LOC, workflowId: 'no-such-workflow' },
        { cookie },
        { authorization: `Bearer ${noScopeKey}` },
      );
      if (process.env.ERROR_CONTRACT_LIST) console.log(checked.join('\n'));
      for (const status of [400, 401, 403, 404, 413, 415])
        expect(
          checked.some((c) => c.endsWith(` ${status}`)),
          `some route answered ${status}`,
        ).toBe(true);
    });

    it('answers the documented 503 when GHL is down for the location (GHL_RATE_LIMITED, with Retry-After)', async () => {
      // GHL answers 429 with a wait longer than the client honours: the dependency is unavailable, retry later.
      fake.fault({ path: '/workflows', status: 429, headers: { 'Retry-After': '120' } });
      const sent = await send(app.base, 'get', '/workflows', { headers: { cookie } });
      check(doc, 'get', '/workflows', 503, sent);
      expect(sent.body.error.code).toBe('GHL_RATE_LIMITED');
      expect(Number(sent.headers.get('retry-after'))).toBeGreaterThan(0);
    });
  },
);

describe.skipIf(!pgUp)('error contract of the served document (src/main.ts): 422 and 503', () => {
  let app: SecurityApp;
  let doc: Json;
  let cookie: string;

  beforeAll(async () => {
    // A 1 ms analysis budget: a well-formed definition with a long email body overruns it.
    app = await startSecurityApp('api_error_contract_main', { ANALYSIS_TIME_BUDGET_MS: '1' });
    cookie = await app.login();
    doc = await (await fetch(`${app.base}/openapi.json`)).json();
  }, 120_000);
  afterAll(async () => app?.stop());

  it('answers the documented 422 (a valid definition too expensive to analyse) as documented', async () => {
    // 200 chained email steps with hostile copy (~90 KB, under the 100 KB body limit): about 10 ms of analysis even
    // when the analyzer is warm, ten times the budget.
    const templates = Array.from({ length: 200 }, (_, i) => ({
      id: `e${i}`,
      type: 'email',
      name: `Email ${i}`,
      attributes: { subject: 'x', html: '<'.repeat(170), body: '[X '.repeat(56) },
      ...(i < 199 ? { next: `e${i + 1}` } : {}),
    }));
    const definition = {
      id: 'contract-422',
      locationId: DEMO_LOCATION,
      name: 'expensive',
      status: 'published',
      version: 1,
      allowMultiple: false,
      stopOnResponse: false,
      triggers: [],
      workflowData: { templates },
    };
    const sent = await send(app.base, 'post', '/analyze', {
      headers: { cookie, 'content-type': 'application/json' },
      body: JSON.stringify({ definition }),
    });
    check(doc, 'post', '/analyze', 422, sent);
    expect(sent.body.error.code).toBe('ANALYSIS_TIME_BUDGET_EXCEEDED');
  }, 30_000);

  it('answers the documented 503 when PostgreSQL refuses every connection (DATABASE_UNAVAILABLE, with Retry-After)', async () => {
    // The app's database refuses new connections and the ones it holds are ended: the next query cannot run.
    const admin = new pg.Client({ connectionString: sharedPostgresUrl });
    await admin.connect();
    const db = app.pg.database;
    await app.pg.pool.end();
    await admin.query(`ALTER DATABASE "${db}" WITH ALLOW_CONNECTIONS false`);
    try {
      await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1', [db]);
      const sent = await send(app.base, 'get', '/history', { headers: { cookie } });
      check(doc, 'get', '/history', 503, sent);
      expect(sent.body.error.code).toMatch(/^DATABASE_/);
    } finally {
      await admin.query(`ALTER DATABASE "${db}" WITH ALLOW_CONNECTIONS true`);
      await admin.end();
    }
  }, 30_000);
});

describe.skipIf(!pgUp)('error contract of the billing routes (fake Stripe), against the app document', () => {
  let pg: SharedPostgres;
  let fake: FakeStripe;
  let app: BillingApp;
  let doc: Json;

  beforeAll(async () => {
    pg = await sharedPostgres('api_error_contract_billing');
    await migrate({ url: pg.url });
    fake = await startFakeStripe({ prices: [PRICE_PRO, PRICE_ENTERPRISE] });
    app = await startApp({ url: pg.url, billing: { stripe: fake } });
    doc = createApiDocs({
      enabled: true,
      sessionCookieName: 'session',
      routes: [getSubscriptionRoute, checkoutRoute, portalRoute],
      version: 'test',
    }).openapi.document;
  });
  afterAll(async () => {
    await app?.close();
    await fake?.close();
    await pg?.cleanup();
  });

  it('answers each documented 400, 401, 403, 404, 409, 413 and 415 as documented', async () => {
    const tenant = await app.tenant('loc-billing-contract');
    const { key: noScope } = await createApiKeyStore(app.db, TEST_SECRETS.sessionSecret).create({
      accountId: tenant.accountId,
      locationId: tenant.locationId,
      name: 'no-scope',
      scopes: [],
    });
    const auth = { authorization: tenant.headers.authorization! };
    const checked = await probeAll(app.base, doc, { locationId: tenant.locationId }, auth, {
      authorization: `Bearer ${noScope}`,
      'content-type': 'application/json',
    });
    // 409: the portal of a location that never checked out has no Stripe customer.
    if (doc.paths['/subscription/portal']?.post?.responses['409']) {
      checked.push(
        check(
          doc,
          'post',
          '/subscription/portal',
          409,
          await send(app.base, 'post', '/subscription/portal', {
            headers: { ...auth, 'content-type': 'application/json' },
            body: '{}',
          }),
        ),
      );
    }
    if (process.env.ERROR_CONTRACT_LIST) console.log(checked.join('\n'));
    for (const status of [400, 401, 403])
      expect(
        checked.some((c) => c.endsWith(` ${status}`)),
        `some route answered ${status}`,
      ).toBe(true);
  });
});
