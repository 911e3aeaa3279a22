// Scheduled audits. The audit body (auditProcessor) over the real workflow service, PostgreSQL and our fake GHL:
// it queues exactly the workflows whose version has no analysis yet, nothing when nothing changed, and drops the
// schedule of a location that is no longer connected. Then end to end: a worker process started with AUDIT_CRON
// audits a connected location on its own (no API call), and a worker started without it removes the schedules.
import { randomBytes } from 'node:crypto';
import { createCache, type Cache } from '@org/cache';
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
import { createDatabase, type Database } from '../../../src/db/database.js';
import { migrate } from '../../../src/db/migrations.js';
import { createGhlClient } from '../../../src/ghl/client.js';
import {
  createBuilderDefinitionSource,
  createImportedDefinitionSource,
} from '../../../src/features/workflows/definition-sources.js';
import { startFakeGhl, type FakeGhl, type FakeLocation } from '../../../fakes/ghl/server.js';
import type { TokenStore } from '../../../src/ghl/token-store.js';
import {
  createBullAnalysisQueue,
  createMemoryAnalysisQueue,
  type AnalysisQueue,
  type BatchSnapshot,
} from '../../../src/jobs/index.js';
import { analysisProcessor } from '../../../src/features/workflows/analysis-job.js';
import { auditProcessor } from '../../../src/features/workflows/audit.js';
import { createLogger } from '../../../src/observability/logger.js';
import { createWorkflowService } from '../../../src/features/workflows/service.js';
import { spawnWorker, type AppProcess } from '../../support/child.js';
import {
  fixtureLocation as locationOf,
  processTokenStore,
  sessionFor,
  startApp,
  type GhlApp,
  seedTenant,
  TEST_SECRETS,
} from '../../support/app.js';

const pgUp = await hasSharedPostgres();
const redisUp = await hasSharedRedis();
const CLIENT = { id: 'audit-client-id', secret: TEST_SECRETS.ghlClientSecret };

describe.skipIf(!pgUp)('scheduled audits', () => {
  let pg: SharedPostgres;
  let db: Database;
  let fake: FakeGhl;
  let tokens: TokenStore;
  const suffix = randomBytes(4).toString('hex');
  const L = `audit${suffix}a`;
  const W = `audit${suffix}w`;
  const locations: Record<string, FakeLocation> = { [L]: locationOf(L, 8), [W]: locationOf(W, 6) };

  const rows = async (locationId: string) =>
    (
      await db.query<{ workflow_id: string; workflow_version: number }>(
        'SELECT workflow_id, workflow_version FROM analysis_results WHERE location_id = $1 ORDER BY id',
        [locationId],
      )
    ).rows;

  beforeAll(async () => {
    pg = await sharedPostgres('api_queue_audits');
    await migrate({ url: pg.url });
    db = createDatabase({ url: pg.url, logger: createLogger({ level: 'silent' }) });
    fake = await startFakeGhl({ locations, clientId: CLIENT.id, clientSecret: CLIENT.secret });
    tokens = processTokenStore(db, fake, CLIENT);
    for (const locationId of [L, W]) {
      await seedTenant(db, locationId);
      await tokens.save(db, { ...fake.grant(locationId), locationId });
    }
  });
  afterAll(async () => {
    await fake?.close();
    await db?.close();
    await pg?.cleanup();
  });

  describe('the audit body (in-process queue, real service and GHL)', () => {
    let cache: Cache;
    let queue: AnalysisQueue;
    let auditor: ReturnType<typeof auditProcessor>;
    beforeAll(() => {
      const client = createGhlClient({ baseUrl: fake.url, tokens: (loc) => tokens.accessToken(loc) });
      cache = createCache({ prefix: `audit-test-${suffix}` });
      const service = createWorkflowService({
        db,
        ghl: client,
        imported: createImportedDefinitionSource(db),
        sources: [createBuilderDefinitionSource({ client, baseUrl: fake.url })],
        cache,
      });
      auditor = auditProcessor({ service, db, queue: () => queue });
      queue = createMemoryAnalysisQueue({ processor: analysisProcessor(service, { db }), auditor });
    });
    afterAll(async () => {
      await queue?.close();
      await cache?.close();
    });

    it('on its schedule: every workflow first, then nothing while nothing changes, then exactly the changed versions', async () => {
      await queue.scheduleAudit(L, '* * * * * *');
      await waitFor('the first audit to analyse all 8 workflows', async () => (await rows(L)).length === 8, 20_000, 50);
      const first = await rows(L);
      expect(new Set(first.map((r) => r.workflow_id)).size).toBe(8);
      expect(first.every((r) => r.workflow_version === 1)).toBe(true);

      // Audits keep running every second: with nothing changed they add nothing.
      await new Promise((r) => setTimeout(r, 2_500));
      expect(await rows(L)).toHaveLength(8);

      // Two workflows change in GHL: the next audit analyses exactly those, at their new versions.
      locations[L]!.workflows[2]!.version = 4;
      locations[L]!.workflows[5]!.version = 2;
      await waitFor('the changed versions to be analysed', async () => (await rows(L)).length >= 10, 20_000, 50);
      await new Promise((r) => setTimeout(r, 2_000));
      const all = await rows(L);
      expect(all).toHaveLength(10);
      expect(
        all
          .slice(8)
          .map((r) => `${r.workflow_id}@${r.workflow_version}`)
          .sort(),
      ).toEqual([`${L}-wf-2@4`, `${L}-wf-5@2`]);
      expect(await queue.unscheduleAudit(L)).toBe(true);
    });

    it('reports what it did: one batch of the new workflows aggregating the location score; then nothing to do', async () => {
      const result = await auditor({ locationId: W });
      expect(result).toMatchObject({ locationId: W, checked: 6, queued: 6 });
      let batch: BatchSnapshot | undefined;
      await waitFor(
        'the audit batch to finish',
        async () => (batch = await queue.getBatch(result.batchId!))?.status === 'completed',
        20_000,
        20,
      );
      expect(batch).toMatchObject({ total: 6, completed: 6, failed: 0 });
      expect(batch!.result.score).toEqual(expect.any(Number));
      expect(await auditor({ locationId: W })).toEqual({ locationId: W, checked: 6, queued: 0, batchId: null });
    });

    it('a location no longer connected to GHL loses its schedule and is not audited', async () => {
      await queue.scheduleAudit(W, '0 3 * * *');
      expect(await tokens.remove(db, W)).toBe(true);
      expect(await auditor({ locationId: W })).toEqual({
        locationId: W,
        checked: 0,
        queued: 0,
        batchId: null,
        skipped: 'not-connected',
      });
      expect((await queue.auditSchedules()).map((s) => s.locationId)).not.toContain(W);
      await tokens.save(db, { ...fake.grant(W), locationId: W });
    });
  });

  describe('GET /api/locations/current/audit', () => {
    let app: GhlApp;
    let auditor: ReturnType<typeof auditProcessor>;
    const A = `audit${suffix}h`;
    const B = `audit${suffix}i`;
    beforeAll(async () => {
      locations[A] = locationOf(A, 4);
      app = await startApp({
        url: pg.url,
        ghl: {
          fake,
          analysisQueue: (service) => {
            const queue: AnalysisQueue = createMemoryAnalysisQueue({
              processor: analysisProcessor(service, { db }),
              auditor: (d) => auditor(d),
            });
            auditor = auditProcessor({ service, db, queue: () => queue });
            return queue;
          },
        },
      });
    });
    afterAll(async () => {
      await app?.close();
    });

    it("shows the location's schedule and its last audit, and nothing of another location's", async () => {
      const a = await seedTenant(db, A);
      const b = await seedTenant(db, B);
      await app.module.tokens.save(db, { ...fake.grant(A), locationId: A });
      const get = async (cookie: string, path = '/api/locations/current/audit') => {
        const res = await fetch(`${app.base}${path}`, { headers: { cookie } });
        return { status: res.status, body: (await res.json()) as { data: Record<string, unknown> } };
      };
      const cookieA = await sessionFor(app, a.accountId, A);
      const cookieB = await sessionFor(app, b.accountId, B);
      expect(await get(cookieA)).toEqual({
        status: 200,
        body: { success: true, data: { schedule: null, last: null } },
      });

      await app.module.queue.scheduleAudit(A, '0 3 * * *', 'Europe/Berlin');
      const scheduled = (await get(cookieA)).body.data as {
        schedule: { pattern: string; timeZone: string; next: string };
      };
      expect(scheduled.schedule).toMatchObject({ pattern: '0 3 * * *', timeZone: 'Europe/Berlin' });
      expect(Date.parse(scheduled.schedule.next)).toBeGreaterThan(Date.now());

      await auditor({ locationId: A });
      const { last } = (await get(cookieA)).body.data as {
        last: { ranAt: string; checked: number; queued: number; batchId: string };
      };
      expect(last).toMatchObject({ checked: 4, queued: 4, batchId: expect.stringMatching(/^ba_/) });
      expect(Date.now() - Date.parse(last.ranAt)).toBeLessThan(60_000);
      expect((await get(cookieA, `/api/jobs/${last.batchId}`)).status).toBe(200);

      // Another location sees its own (nothing), and not A's batch.
      expect((await get(cookieB)).body.data).toEqual({ schedule: null, last: null });
      expect((await get(cookieB, `/api/jobs/${last.batchId}`)).status).toBe(404);
      await app.module.queue.unscheduleAudit(A);
      // A's tokens are sealed with this app's key: the worker processes below must not find A connected.
      await app.module.tokens.remove(db, A);
    });
  });

  describe.skipIf(!redisUp)('worker processes with AUDIT_CRON (BullMQ on the shared Redis)', () => {
    let redis: SharedRedis;
    let queue: AnalysisQueue;
    const processes: AppProcess[] = [];
    beforeAll(async () => {
      redis = await sharedRedis('queue_audits');
      queue = createBullAnalysisQueue({ redisUrl: redis.url, prefix: redis.prefix.slice(0, -1) });
    });
    afterAll(async () => {
      for (const p of processes) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
      await Promise.all(processes.map((p) => p.exited));
      await queue?.close();
      await redis?.cleanup();
    });
    const startWorker = async (extra: Record<string, string>) => {
      const worker = await spawnWorker({
        NODE_ENV: 'test',
        DATABASE_URL: pg.url,
        REDIS_URL: redis.url,
        QUEUE_PREFIX: redis.prefix.slice(0, -1),
        GHL_CLIENT_ID: CLIENT.id,
        GHL_CLIENT_SECRET: CLIENT.secret,
        GHL_API_BASE_URL: fake.url,
        GHL_BUILDER_BASE_URL: fake.url,
        ENCRYPTION_KEY: TEST_SECRETS.encryptionKeyHex,
        LOG_LEVEL: 'info',
        ENABLE_METRICS: 'false',
        ...extra,
      });
      processes.push(worker);
      return worker;
    };

    it('two workers with AUDIT_CRON audit every connected location once per run; a worker without it removes the schedules', async () => {
      const E = `audit${suffix}e`;
      locations[E] = locationOf(E, 5);
      await seedTenant(db, E);
      await tokens.save(db, { ...fake.grant(E), locationId: E });
      const env = { AUDIT_CRON: '*/2 * * * * *', AUDIT_TIMEZONE: 'UTC' };
      const [a, b] = [await startWorker(env), await startWorker(env)];
      expect(a.output()).toMatch(/"scheduled":3[,}].*scheduled audits/);
      expect((await queue.auditSchedules()).map((s) => s.locationId).sort()).toEqual([E, L, W].sort());
      // No API call: the schedule alone analyses E's workflows, once each although two workers run the schedule.
      await waitFor(
        "E's five workflows analysed by the schedule",
        async () => (await rows(E)).length >= 5,
        30_000,
        100,
      );
      await new Promise((r) => setTimeout(r, 4_500));
      expect(await rows(E)).toHaveLength(5);
      const audits = (a.output() + b.output()).match(/"locationId":"audit[0-9a-f]+e"[^\n]*audit done/g) ?? [];
      expect(audits.length).toBeGreaterThanOrEqual(2);

      for (const w of [a, b]) w.child.kill('SIGTERM');
      await Promise.all([a.exited, b.exited]);
      const c = await startWorker({});
      expect(c.output()).toMatch(/"removed":3[,}].*scheduled audits off/);
      expect(await queue.auditSchedules()).toEqual([]);
    }, 120_000);
  });
});
