// The workflow, analysis and history routes over HTTP: real app, real PostgreSQL, the fake GHL as GHL.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { hasSharedPostgres, sharedPostgres, type SharedPostgres } from '@org/test-services';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate } from '../../../src/db/migrations.js';
import { fakeLocationsFromFolder, startFakeGhl, type FakeGhl } from '../../../fakes/ghl/server.js';
import { createCache, type Cache } from '@org/cache';
import { createUserRecords } from '../../../src/features/billing/user-record.js';
import { sessionFor, startApp, type GhlApp, seedTenant } from '../../support/app.js';

const pgUp = await hasSharedPostgres();
const FIXTURES = fileURLToPath(new URL('../../../fakes/ghl/workflows', import.meta.url));
const LOC = 'pR7kQ2sVx9LmN4tYb3Hc';
const IMPORT_ONLY = 'importOnlyLocation01';
const fixture = (name: string) =>
  JSON.parse(readFileSync(`${FIXTURES}/${name}.json`, 'utf8')) as Record<string, unknown>;

describe.skipIf(!pgUp)('workflow routes (shared PostgreSQL, fake GHL)', () => {
  let pg: SharedPostgres;
  let fake: FakeGhl;
  let app: GhlApp;
  let cookie: string;
  let importCookie: string;
  let cache: Cache;

  beforeAll(async () => {
    pg = await sharedPostgres('api_ghl_routes');
    await migrate({ url: pg.url });
    fake = await startFakeGhl({ locations: fakeLocationsFromFolder(FIXTURES) });
    cache = createCache({ prefix: 'routes-test' });
    app = await startApp({ url: pg.url, ghl: { fake, cache, users: (db) => createUserRecords({ db, cache }) } });
    const a = await seedTenant(app.db, LOC);
    await app.module.tokens.save(app.db, { ...fake.grant(LOC), locationId: LOC });
    cookie = await sessionFor(app, a.accountId, LOC);
    const b = await seedTenant(app.db, IMPORT_ONLY);
    importCookie = await sessionFor(app, b.accountId, IMPORT_ONLY);
  });
  afterAll(async () => {
    await app?.close();
    await cache?.close();
    await fake?.close();
    await pg?.cleanup();
  });

  const call = async (path: string, options: { method?: string; body?: unknown; cookie?: string } = {}) => {
    const res = await fetch(`${app.base}${path}`, {
      method: options.method ?? (options.body === undefined ? 'GET' : 'POST'),
      headers: {
        ...(options.cookie === '' ? {} : { cookie: options.cookie ?? cookie }),
        ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
    });
    return {
      status: res.status,
      // eslint-disable-next-line @typescript-eslint/no-explicit-any -- response bodies are asserted field by field
      body: (await res.json()) as { success: boolean; data: any; error?: { code: string; issues?: unknown[] } },
    };
  };

  it('every route needs a credential (401 in the API error format)', async () => {
    for (const [path, body] of [
      ['/api/workflows'],
      ['/api/history'],
      ['/api/locations/current/health'],
      ['/api/analyze', { workflowId: 'x' }],
      ['/v1/api/analyses/1'],
    ] as const) {
      const res = await call(path, { cookie: '', body });
      expect(res.status).toBe(401);
      expect(res.body.error!.code).toBe('UNAUTHORIZED');
    }
  });

  it('GET /workflows lists GHL metadata (connected) or imported definitions (import only), at /api and /v1/api', async () => {
    const a = await call('/api/workflows');
    expect(a.status).toBe(200);
    expect(a.body.data).toHaveLength(5);
    expect(a.body.data[0]).toMatchObject({ id: expect.any(String), source: 'ghl', hasDefinition: true });
    expect((await call('/v1/api/workflows')).body).toEqual(a.body);
    expect((await call('/api/workflows', { cookie: importCookie })).body.data).toEqual([]);
  });

  it('GET /workflows is cached 10 minutes per location: a second call does not reach GHL; an import invalidates it', async () => {
    const n = () => fake.stats.requests.get(LOC)?.length ?? 0;
    await call('/api/workflows');
    const before = n();
    await call('/api/workflows');
    expect(n()).toBe(before);
    const def = fixture('dental-review-request');
    expect((await call('/api/workflows/import', { body: { ...def, version: Number(def.version) + 1 } })).status).toBe(
      201,
    );
    const after = await call('/api/workflows');
    expect(n()).toBeGreaterThan(before);
    expect(after.body.data.find((w: { id: string }) => w.id === def.id)).toMatchObject({
      source: 'import',
      version: Number(def.version) + 1,
    });
  });

  it('POST /workflows/import validates with the analyzer schema and stores per location and version', async () => {
    const def: Record<string, unknown> = { ...fixture('dental-review-request'), locationId: IMPORT_ONLY };
    const bad = await call('/api/workflows/import', {
      cookie: importCookie,
      body: { ...def, status: 'live', workflowData: {} },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error!.code).toBe('INVALID_WORKFLOW_DEFINITION');
    expect(bad.body.error!.issues!.length).toBeGreaterThanOrEqual(2);
    const ok = await call('/api/workflows/import', { cookie: importCookie, body: def });
    expect(ok.status).toBe(201);
    expect(ok.body.data).toMatchObject({ id: def.id, version: def.version, source: 'import', hasDefinition: true });
    const list = await call('/api/workflows', { cookie: importCookie });
    expect(list.body.data.map((w: { id: string }) => w.id)).toEqual([def.id]);
    const one = await call(`/api/workflows/${String(def.id)}`, { cookie: importCookie });
    expect(one.status).toBe(200);
    expect(one.body.data.definition.id).toBe(def.id);
    expect((await call('/api/workflows/unknown-workflow', { cookie: importCookie })).status).toBe(404);
  });

  it('POST /analyze by workflowId stores an analysis, then serves it from the cache for the same version', async () => {
    const list = (await call('/api/workflows')).body.data as { id: string; name: string }[];
    const target = list.find((w) => w.name.includes('Nurture')) ?? list[0]!;
    const first = await call('/api/analyze', { body: { workflowId: target.id } });
    expect(first.status).toBe(200);
    expect(first.body.data).toMatchObject({
      workflowId: target.id,
      cached: false,
      tier: 'free',
      score: expect.any(Number),
    });
    expect(first.body.data.issuesFound).toBe(first.body.data.findings.length);
    const second = await call('/api/analyze', { body: { workflowId: target.id } });
    expect(second.body.data).toMatchObject({ id: first.body.data.id, cached: true });
    const stored = await call(`/api/analyses/${first.body.data.id}`);
    expect(stored.status).toBe(200);
    expect(stored.body.data).toMatchObject({
      id: first.body.data.id,
      score: first.body.data.score,
      findings: first.body.data.findings,
    });
    expect((await call('/api/analyze', { body: { workflowId: 'nope' } })).status).toBe(404);
    expect((await call('/api/analyze', { body: { workflowId: target.id, extra: 1 } })).status).toBe(400);
  });

  it('POST /analyze with an inline definition of the own location analyses it; a malformed one lists its problems', async () => {
    const def = fixture('dental-missed-call-text-back');
    const res = await call('/api/analyze', { body: { definition: def } });
    expect(res.status).toBe(200);
    expect(res.body.data.workflowId).toBe(def.id);
    const bad = await call('/api/analyze', { body: { definition: { ...def, triggers: 'none' } } });
    expect(bad.status).toBe(400);
    expect(bad.body.error!.code).toBe('INVALID_WORKFLOW_DEFINITION');
  });

  it('GET /history: filters, keyset pagination without duplicates, and the tier retention (free 7, pro 90, enterprise all)', async () => {
    await app.db.query('DELETE FROM analysis_results WHERE location_id = $1', [LOC]);
    const insert = (workflowId: string, score: number, ageDays: number) =>
      app.db.query(
        "INSERT INTO analysis_results (location_id, workflow_id, workflow_version, health_score, issues_found, tier, created_at) VALUES ($1, $2, 1, $3, 0, 'free', now() - $4 * interval '1 day')",
        [LOC, workflowId, score, ageDays],
      );
    for (let i = 0; i < 25; i++) await insert(i % 2 ? 'wf-odd' : 'wf-even', 40 + i, i * 0.1);
    await insert('wf-even', 90, 30);
    await insert('wf-even', 91, 200);

    const pages: string[][] = [];
    let cursor: string | null = null;
    do {
      const res = await call(`/api/history?limit=10${cursor ? `&cursor=${cursor}` : ''}`);
      expect(res.status).toBe(200);
      pages.push(res.body.data.items.map((i: { id: string }) => i.id));
      cursor = res.body.data.nextCursor;
      expect(res.body.data.retentionDays).toBe(7);
    } while (cursor);
    expect(pages.map((p) => p.length)).toEqual([10, 10, 5]);
    expect(new Set(pages.flat()).size).toBe(25);
    const filtered = await call('/api/history?workflowId=wf-odd&minScore=50&limit=100');
    expect(
      filtered.body.data.items.every(
        (i: { workflowId: string; score: number }) => i.workflowId === 'wf-odd' && i.score >= 50,
      ),
    ).toBe(true);
    expect(filtered.body.data.items.length).toBe(7); // odd i in 0..24 with 40 + i >= 50
    const from = new Date(Date.now() - 0.55 * 86_400_000).toISOString();
    const ranged = await call(`/api/history?from=${encodeURIComponent(from)}&limit=100`);
    expect(ranged.body.data.items.length).toBe(6);
    expect((await call('/api/history?cursor=garbage')).status).toBe(400);
    expect((await call('/api/history?minScore=101')).status).toBe(400);

    await app.db.query(
      "INSERT INTO stripe_customers (location_id, customer_id, status, tier) VALUES ($1, 'cus_test', 'active', 'pro')",
      [LOC],
    );
    // The tier is cached as user:{locationId} for 15 minutes: unchanged until billing says it changed.
    expect((await call('/api/history?limit=1')).body.data.retentionDays).toBe(7);
    await createUserRecords({ db: app.db, cache }).invalidate(LOC);
    const pro = await call('/api/history?limit=100');
    expect(pro.body.data).toMatchObject({ retentionDays: 90 });
    expect(pro.body.data.items.length).toBe(26);
    await app.db.query("UPDATE stripe_customers SET tier = 'enterprise' WHERE location_id = $1", [LOC]);
    await createUserRecords({ db: app.db, cache }).invalidate(LOC);
    const enterprise = await call('/api/history?limit=100');
    expect(enterprise.body.data).toMatchObject({ retentionDays: null });
    expect(enterprise.body.data.items.length).toBe(27);
  });

  it('GET /locations/current/health scores the location from its workflows', async () => {
    const res = await call('/api/locations/current/health');
    expect(res.status).toBe(200);
    expect(res.body.data).toMatchObject({ locationId: LOC, score: expect.any(Number), band: expect.any(String) });
    expect(res.body.data.workflows).toHaveLength(5);
  });

  it('the OpenAPI document matches the mounted routes, and /analyze carries the analysis rate-limit policy', () => {
    const doc = app.module.openapi.document as unknown as {
      paths: Record<string, Record<string, Record<string, unknown>>>;
    };
    expect(doc.paths['/analyze']!.post!['x-rate-limit-policy']).toBe('analysis');
    expect(Object.keys(doc.paths).sort()).toEqual([
      '/analyses/batch',
      '/analyses/{id}',
      '/analyze',
      '/history',
      '/jobs/{id}',
      '/jobs/{id}/events',
      '/locations/current/audit',
      '/locations/current/health',
      '/workflows',
      '/workflows/import',
      '/workflows/{id}',
    ]);
  });
});
