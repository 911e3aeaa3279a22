// Tenant isolation: a session or API key of location A gets 404 for every route carrying location B's ids (path,
// query, body), and no row of B is read (the SQL log: every statement, its parameters and its rows), no cache key of B
// is touched (a recording cache) and no GHL request is made for B (the fake counts requests per location).
import { connect } from 'node:net';
import { fileURLToPath } from 'node:url';
import {
  hasSharedPostgres,
  hasSharedRedis,
  sharedPostgres,
  sharedRedis,
  type SharedPostgres,
  type SharedRedis,
} from '@org/test-services';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKeyStore } from '../../../src/auth/api-keys.js';
import { migrate } from '../../../src/db/migrations.js';
import { fakeLocationsFromFolder, startFakeGhl, type FakeGhl } from '../../../fakes/ghl/server.js';
import { createCache, type Cache } from '@org/cache';
import type { WorkflowCache } from '../../../src/features/workflows/cache.js';
import { sessionFor, startApp, type GhlApp, TEST_SECRETS, seedTenant } from '../../support/app.js';

const pgUp = await hasSharedPostgres();
const redisUp = await hasSharedRedis();
const FIXTURES = fileURLToPath(new URL('../../../fakes/ghl/workflows', import.meta.url));
const A = 'pR7kQ2sVx9LmN4tYb3Hc';
const B = 'Wq3nZ8cRt5YhJ2vKd6Pa';
const locations = fakeLocationsFromFolder(FIXTURES);

describe.skipIf(!pgUp || !redisUp)('tenant isolation (shared PostgreSQL and Redis, fake GHL)', () => {
  let pg: SharedPostgres;
  let fake: FakeGhl;
  let app: GhlApp;
  const cacheKeys: string[] = [];
  /** Every command the shared Redis saw for this file's namespace (MONITOR). */
  const monitored: string[] = [];
  let redis: SharedRedis;
  let orgCache: Cache;
  let monitor: { disconnect(): void } | undefined;
  let credentials: Record<string, Record<string, string>>;
  let bWorkflow: string;
  let bImported: Record<string, unknown>;
  let bAnalysis: string;

  beforeAll(async () => {
    pg = await sharedPostgres('api_ghl_tenants');
    await migrate({ url: pg.url });
    fake = await startFakeGhl({ locations });
    redis = await sharedRedis('api_tenants');
    const namespace = redis.prefix.slice(0, -1);
    // @org/cache on the shared Redis (memory in front), as production runs it; MONITOR records what reaches Redis.
    orgCache = createCache({ redis: redis.newClient(), prefix: namespace });
    // MONITOR over a plain socket: every command the server executes arrives as one "+<time> [db addr] args" line.
    const url = new URL(redis.url);
    const socket = connect(Number(url.port || 6379), url.hostname);
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    let pending = '';
    socket.on('data', (chunk: Buffer) => {
      pending += chunk.toString('utf8');
      const lines = pending.split('\r\n');
      pending = lines.pop()!;
      for (const line of lines) if (line.includes(namespace)) monitored.push(line);
    });
    socket.write('MONITOR\r\n');
    monitor = { disconnect: () => socket.destroy() };
    const cache: WorkflowCache = {
      get: (key) => (cacheKeys.push(key), orgCache.get(key)),
      set: (key, value, ttl) => (cacheKeys.push(key), orgCache.set(key, value, ttl)),
      delete: (key) => (cacheKeys.push(key), orgCache.delete(key)),
    };
    app = await startApp({ url: pg.url, ghl: { fake, cache } });
    const a = await seedTenant(app.db, A);
    const b = await seedTenant(app.db, B);
    for (const loc of [A, B]) await app.module.tokens.save(app.db, { ...fake.grant(loc), locationId: loc });
    const apiKey = (
      await createApiKeyStore(app.db, TEST_SECRETS.sessionSecret).create({
        accountId: a.accountId,
        locationId: A,
        name: 'a-key',
      })
    ).key;
    credentials = {
      session: { cookie: await sessionFor(app, a.accountId, A) },
      apiKey: { authorization: `Bearer ${apiKey}` },
    };

    // B's own data, created through B's session: a workflow from GHL, an imported definition, an analysis.
    const bCookie = await sessionFor(app, b.accountId, B);
    const post = (path: string, body: unknown) =>
      fetch(`${app.base}${path}`, {
        method: 'POST',
        headers: { cookie: bCookie, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      }).then(async (r) => ({ status: r.status, body: (await r.json()) as { data: { id: string } } }));
    bWorkflow = String(locations[B]!.workflows[0]!.id);
    bImported = {
      ...locations[B]!.workflows[1]!,
      id: 'b-only-imported-workflow',
      _id: 'b-only-imported-workflow',
      name: 'B secret workflow',
    };
    expect((await post('/api/workflows/import', bImported)).status).toBe(201);
    const analysis = await post('/api/analyze', { workflowId: bWorkflow });
    expect(analysis.status).toBe(200);
    bAnalysis = analysis.body.data.id;
  });
  afterAll(async () => {
    await app?.close();
    await orgCache?.close();
    monitor?.disconnect();
    await fake?.close();
    await redis?.cleanup();
    await pg?.cleanup();
  });

  for (const kind of ['session', 'apiKey'] as const) {
    it(`a ${kind} of A gets 404 for every route carrying B's ids, and nothing of B is touched`, async () => {
      const headers = credentials[kind]!;
      const bRequestsBefore = fake.stats.requests.get(B)?.length ?? 0;
      const bRowsBefore = await app.db.query(
        "SELECT (SELECT count(*) FROM analysis_results WHERE location_id = $1) || '/' || (SELECT count(*) FROM workflow_definitions WHERE location_id = $1) AS n",
        [B],
      );
      app.queries.length = 0;
      cacheKeys.length = 0;
      monitored.length = 0;
      const cases: [string, string, unknown?][] = [
        ['GET', `/api/workflows/${bWorkflow}`],
        ['GET', `/v1/api/workflows/${bWorkflow}`],
        ['GET', `/api/workflows/${String(bImported.id)}`],
        ['GET', `/api/analyses/${bAnalysis}`],
        ['GET', `/api/history?workflowId=${bWorkflow}`],
        ['GET', `/api/history?workflowId=${String(bImported.id)}`],
        ['POST', '/api/analyze', { workflowId: bWorkflow }],
        ['POST', '/api/analyze', { workflowId: String(bImported.id) }],
        ['POST', '/api/analyze', { definition: locations[B]!.workflows[0] }],
        ['POST', '/api/workflows/import', locations[B]!.workflows[0]],
        ['GET', `/api/locations/${B}/analyses`],
        ['GET', `/api/locations/${B}/workflows/${bWorkflow}/analysis`],
        ['GET', `/api/locations/${B}/subscription`],
      ];
      for (const [method, path, body] of cases) {
        const res = await fetch(`${app.base}${path}`, {
          method,
          headers: { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
          body: body === undefined ? undefined : JSON.stringify(body),
        });
        expect([method, path, res.status]).toEqual([method, path, 404]);
        expect(((await res.json()) as { error: { code: string } }).error.code).toBe('NOT_FOUND');
      }
      // The SQL log: B's location id is never a parameter, and no row read carries B's data.
      expect(app.queries.length).toBeGreaterThan(cases.length);
      for (const q of app.queries) {
        expect(q.values.map(String)).not.toContain(B);
        const rows = JSON.stringify(q.rows);
        expect(rows).not.toContain(B);
        expect(rows).not.toContain('B secret workflow');
      }
      expect(app.queries.some((q) => /workflow_definitions|analysis_results/.test(q.text))).toBe(true);
      // No cache key of B, no GHL request for B, no row of B written.
      expect(cacheKeys.length).toBeGreaterThan(0);
      expect(cacheKeys.filter((k) => k.includes(B))).toEqual([]);
      // Redis saw A's keys (the probe works) and none of B's.
      await new Promise((r) => setTimeout(r, 200));
      expect(monitored.some((c) => c.includes(A))).toBe(true);
      expect(monitored.filter((c) => c.includes(B))).toEqual([]);
      expect(fake.stats.requests.get(B)?.length ?? 0).toBe(bRequestsBefore);
      const bRowsAfter = await app.db.query(
        "SELECT (SELECT count(*) FROM analysis_results WHERE location_id = $1) || '/' || (SELECT count(*) FROM workflow_definitions WHERE location_id = $1) AS n",
        [B],
      );
      expect(bRowsAfter.rows[0]).toEqual(bRowsBefore.rows[0]);
    });
  }

  it('A still sees its own data through the same routes (the 404s are not blanket failures)', async () => {
    const res = await fetch(`${app.base}/api/workflows/${String(locations[A]!.workflows[0]!.id)}`, {
      headers: credentials.session,
    });
    expect(res.status).toBe(200);
  });
});
