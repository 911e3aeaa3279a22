// POST /analyze { async: true } and GET /jobs/:id over HTTP: real app, real PostgreSQL, the fake GHL as GHL; the
// in-process queue (embedded defaults) and BullMQ on the shared Redis run the same cases.
import { fileURLToPath } from 'node:url';
import { createCache, type Cache } from '@org/cache';
import { defineTiers } from '@org/tiered-rate-limit';
import {
  hasSharedPostgres,
  hasSharedRedis,
  sharedPostgres,
  sharedRedis,
  waitFor,
  type SharedPostgres,
  type SharedRedis,
} from '@org/test-services';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUserRecords } from '../../../src/features/billing/user-record.js';
import { createDatabase } from '../../../src/db/database.js';
import { migrate } from '../../../src/db/migrations.js';
import { fakeLocationsFromFolder, startFakeGhl, type FakeGhl } from '../../../fakes/ghl/server.js';
import { createApiRateLimit } from '../../../src/features/billing/rate-limit.js';
import { createAnalysisBudget, createBullAnalysisQueue, type AnalysisQueue } from '../../../src/jobs/index.js';
import { analysisProcessor } from '../../../src/features/workflows/analysis-job.js';
import { createLogger } from '../../../src/observability/logger.js';
import type { WorkflowService } from '../../../src/features/workflows/service.js';
import { sessionFor, startApp, type GhlApp, seedTenant, TEST_SECRETS } from '../../support/app.js';

const pgUp = await hasSharedPostgres();
const redisUp = await hasSharedRedis();
const FIXTURES = fileURLToPath(new URL('../../../fakes/ghl/workflows', import.meta.url));
const LOC = 'pR7kQ2sVx9LmN4tYb3Hc';
const OTHER = 'otherLocationJobs001';

type QueueFactory = ((service: WorkflowService) => AnalysisQueue) | undefined;
const redisHandles: SharedRedis[] = [];

const variants: [string, () => Promise<QueueFactory>, boolean][] = [
  ['in-process queue (no Redis)', async () => undefined, pgUp],
  [
    'BullMQ on the shared Redis',
    async () => {
      const redis = await sharedRedis('jobs_routes');
      redisHandles.push(redis);
      return (service) =>
        createBullAnalysisQueue({
          redisUrl: redis.url,
          prefix: redis.prefix.slice(0, -1),
          processor: analysisProcessor(service),
          backoffMs: 50,
        });
    },
    pgUp && redisUp,
  ],
];

describe.each(variants)('background analysis routes: %s', (_name, makeQueue, available) => {
  let pg: SharedPostgres;
  let fake: FakeGhl;
  let app: GhlApp;
  let cookie: string;
  let otherCookie: string;
  let cache: Cache;

  beforeAll(async () => {
    if (!available) return;
    pg = await sharedPostgres('api_jobs_routes');
    await migrate({ url: pg.url });
    fake = await startFakeGhl({ locations: fakeLocationsFromFolder(FIXTURES) });
    cache = createCache({ prefix: 'jobs-routes-test' });
    app = await startApp({ url: pg.url, ghl: { fake, cache, analysisQueue: await makeQueue() } });
    const a = await seedTenant(app.db, LOC);
    await app.module.tokens.save(app.db, { ...fake.grant(LOC), locationId: LOC });
    cookie = await sessionFor(app, a.accountId, LOC);
    const b = await seedTenant(app.db, OTHER);
    otherCookie = await sessionFor(app, b.accountId, OTHER);
  });
  afterAll(async () => {
    await app?.close();
    await cache?.close();
    await fake?.close();
    await pg?.cleanup();
    await Promise.all(redisHandles.splice(0).map((r) => r.cleanup()));
  });

  const call = async (path: string, options: { body?: unknown; cookie?: string } = {}) => {
    const res = await fetch(`${app.base}${path}`, {
      method: options.body === undefined ? 'GET' : 'POST',
      headers: {
        cookie: options.cookie ?? cookie,
        ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
    });
    return {
      status: res.status,
      // eslint-disable-next-line @typescript-eslint/no-explicit-any -- response bodies are asserted field by field
      body: (await res.json()) as { success: boolean; data: any; error?: { code: string } },
    };
  };
  const finished = async (jobId: string) => {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- asserted field by field
    let job: any;
    await waitFor(
      `job ${jobId}`,
      async () => {
        job = (await call(`/api/jobs/${jobId}`)).body.data;
        return job?.status === 'completed' || job?.status === 'failed';
      },
      20_000,
    );
    return job;
  };

  it.skipIf(!available)(
    'async: true answers 202 with the job id; the job completes with the stored analysis; the same version is not queued twice',
    async () => {
      const workflows = (await call('/api/workflows')).body.data as { id: string; version: number }[];
      const target = workflows[0]!;
      const queued = await call('/api/analyze', { body: { workflowId: target.id, async: true } });
      expect(queued.status).toBe(202);
      expect(queued.body).toEqual({
        success: true,
        data: { jobId: expect.stringMatching(/^an_/), status: 'queued', duplicate: false },
      });
      const jobId = queued.body.data.jobId as string;
      const job = await finished(jobId);
      expect(job).toMatchObject({
        id: jobId,
        workflowId: target.id,
        version: target.version,
        status: 'completed',
        progress: 100,
        error: null,
      });
      expect(job.result).toMatchObject({
        workflowId: target.id,
        score: expect.any(Number),
        findings: expect.any(Array),
      });
      expect(job).not.toHaveProperty('locationId');
      // Stored through the workflow service: the analysis is readable and counted once in analysis_results.
      const stored = await call(`/api/analyses/${job.result.id as string}`);
      expect(stored.status).toBe(200);
      const again = await call('/api/analyze', { body: { workflowId: target.id, async: true } });
      expect(again.status).toBe(202);
      expect(again.body.data).toEqual({ jobId, status: 'queued', duplicate: true });
      const { rows } = await app.db.query<{ n: string }>(
        'SELECT count(*)::text AS n FROM analysis_results WHERE location_id = $1 AND workflow_id = $2',
        [LOC, target.id],
      );
      expect(rows[0]!.n).toBe('1');
    },
  );

  it.skipIf(!available)(
    'a job of another location is 404 (same as an unknown job); an unknown workflow is 404 before queueing',
    async () => {
      const workflows = (await call('/api/workflows')).body.data as { id: string }[];
      const { body } = await call('/api/analyze', { body: { workflowId: workflows[1]!.id, async: true } });
      const jobId = body.data.jobId as string;
      await finished(jobId);
      const foreign = await call(`/api/jobs/${jobId}`, { cookie: otherCookie });
      expect(foreign.status).toBe(404);
      expect(foreign.body.error!.code).toBe('NOT_FOUND');
      expect((await call('/api/jobs/an_doesnotexist')).status).toBe(404);
      expect((await call('/api/analyze', { body: { workflowId: 'nope', async: true } })).status).toBe(404);
      expect((await call('/api/jobs/x', { cookie: '' })).status).toBe(401);
    },
  );

  it.skipIf(!available)(
    'POST /analyses/batch: one parent, a child per workflow, the parent result aggregates the location score',
    async () => {
      const workflows = (await call('/api/workflows')).body.data as { id: string; hasDefinition: boolean }[];
      const ids = workflows.slice(0, 3).map((w) => w.id);
      const queued = await call('/api/analyses/batch', { body: { workflowIds: [...ids, ids[0]] } });
      expect(queued.status).toBe(202);
      expect(queued.body.data).toMatchObject({ jobId: expect.stringMatching(/^ba_/), status: 'queued', total: 3 });
      expect(queued.body.data.children).toHaveLength(3);
      const batch = await finished(queued.body.data.jobId as string);
      expect(batch).toMatchObject({
        kind: 'batch',
        status: 'completed',
        progress: 100,
        total: 3,
        completed: 3,
        failed: 0,
        errors: [],
      });
      const scores = (batch.result.workflows as { score: number; workflowId: string }[]).map((w) => w.score);
      expect(batch.result.workflows.map((w: { workflowId: string }) => w.workflowId)).toEqual(ids);
      expect(batch.result.score).toBe(Math.round(scores.reduce((a, b) => a + b, 0) / scores.length));
      // Every child is an ordinary job of this location, readable on its own; another location sees 404 for all of them.
      for (const child of queued.body.data.children as string[])
        expect((await call(`/api/jobs/${child}`)).body.data.status).toBe('completed');
      expect((await call(`/api/jobs/${queued.body.data.jobId as string}`, { cookie: otherCookie })).status).toBe(404);

      const all = await call('/api/analyses/batch', { body: { all: true } });
      expect(all.status).toBe(202);
      const withDefinition = workflows.filter((w) => w.hasDefinition).length;
      expect(all.body.data.total).toBe(withDefinition);
      const allDone = await finished(all.body.data.jobId as string);
      expect(allDone.completed).toBe(withDefinition);
      // Versions already analysed were not analysed again: one row per workflow version in analysis_results.
      const { rows } = await app.db.query<{ n: string; d: string }>(
        'SELECT count(*)::text AS n, count(DISTINCT (workflow_id, workflow_version))::text AS d FROM analysis_results WHERE location_id = $1',
        [LOC],
      );
      expect(rows[0]!.n).toBe(rows[0]!.d);
      expect((await call('/api/analyses/batch', { body: { workflowIds: ['nope'] } })).status).toBe(404);
      expect((await call('/api/analyses/batch', { body: { workflowIds: [] } })).status).toBe(400);
      expect((await call('/api/analyses/batch', { body: { all: true }, cookie: otherCookie })).status).toBe(400);
    },
  );

  it.skipIf(!available)('async: false (or absent) keeps the synchronous 200 answer', async () => {
    const workflows = (await call('/api/workflows')).body.data as { id: string }[];
    const res = await call('/api/analyze', { body: { workflowId: workflows[2]!.id, async: false } });
    expect(res.status).toBe(200);
    expect(res.body.data).toMatchObject({ workflowId: workflows[2]!.id, score: expect.any(Number) });
  });
});

describe.skipIf(!pgUp)('background analysis and the tier analysis limit', () => {
  /**
   * The real app with the rate-limit middleware and the batch budget on one limiter, every tier allowed
   * `analysisLimit` analyses an hour; a session of LOC (connected to the fake GHL) is handed to `run`.
   */
  const withAnalysisLimit = async (
    name: string,
    analysisLimit: number,
    run: (app: GhlApp, cookie: string) => Promise<void>,
  ) => {
    const pg = await sharedPostgres(`api_jobs_${name}`);
    await migrate({ url: pg.url });
    const fake = await startFakeGhl({ locations: fakeLocationsFromFolder(FIXTURES) });
    const cache = createCache({ prefix: `jobs-${name}-test` });
    const logger = createLogger({ level: 'silent' });
    const limitDb = createDatabase({ url: pg.url, logger });
    const policies = {
      general: { limit: 100, window: '1m' },
      analysis: { limit: analysisLimit, window: '1h' },
    } as const;
    const tiers = defineTiers({
      free: { label: 'Free', policies },
      pro: { label: 'Pro', policies },
      enterprise: { label: 'Enterprise', policies },
    });
    const users = createUserRecords({ db: limitDb, cache });
    const rateLimit = createApiRateLimit({
      db: limitDb,
      sessionSecret: TEST_SECRETS.sessionSecret,
      isProduction: false,
      users,
      logger,
      tiers,
    });
    const app = await startApp({
      url: pg.url,
      rateLimit,
      ghl: { fake, cache, analysisBudget: createAnalysisBudget({ limiter: rateLimit.limiter, users }) },
    });
    try {
      const a = await seedTenant(app.db, LOC);
      await app.module.tokens.save(app.db, { ...fake.grant(LOC), locationId: LOC });
      await run(app, await sessionFor(app, a.accountId, LOC));
    } finally {
      await app.close();
      await rateLimit.close();
      await limitDb.close();
      await cache.close();
      await fake.close();
      await pg.cleanup();
    }
  };

  it('a batch costs one analysis per item: a batch larger than what is left is refused whole, nothing consumed', async () => {
    await withAnalysisLimit('batch_limit', 4, async (app, cookie) => {
      const list = (await (await fetch(`${app.base}/api/workflows`, { headers: { cookie } })).json()) as {
        data: { id: string }[];
      };
      const batch = (ids: string[]) =>
        fetch(`${app.base}/api/analyses/batch`, {
          method: 'POST',
          headers: { cookie, 'content-type': 'application/json' },
          body: JSON.stringify({ workflowIds: ids }),
        });
      const ids = list.data.map((w) => w.id);
      expect(ids.length).toBeGreaterThanOrEqual(5);
      expect((await batch(ids.slice(0, 5))).status).toBe(429);
      expect((await batch(ids.slice(0, 3))).status).toBe(202);
      expect((await batch(ids.slice(0, 2))).status).toBe(429);
      expect((await batch(ids.slice(3, 4))).status).toBe(202);
    });
  });

  it("POST /analyze with async: true counts against the tier's analysis limit (429 after it)", async () => {
    await withAnalysisLimit('limit', 2, async (app, cookie) => {
      const post = (workflowId: string) =>
        fetch(`${app.base}/api/analyze`, {
          method: 'POST',
          headers: { cookie, 'content-type': 'application/json' },
          body: JSON.stringify({ workflowId, async: true }),
        });
      const list = (await (await fetch(`${app.base}/api/workflows`, { headers: { cookie } })).json()) as {
        data: { id: string }[];
      };
      expect((await post(list.data[0]!.id)).status).toBe(202);
      expect((await post(list.data[1]!.id)).status).toBe(202);
      const limited = await post(list.data[2]!.id);
      expect(limited.status).toBe(429);
      // Batch items count too: with the budget spent, even a batch of one is refused whole.
      const batch = await fetch(`${app.base}/api/analyses/batch`, {
        method: 'POST',
        headers: { cookie, 'content-type': 'application/json' },
        body: JSON.stringify({ workflowIds: [list.data[3]!.id] }),
      });
      expect(batch.status).toBe(429);
      expect(((await batch.json()) as { error: { code: string } }).error.code).toBe('RATE_LIMIT_EXCEEDED');
      expect(batch.headers.get('retry-after')).toMatch(/^\d+$/);
    });
  });
});
