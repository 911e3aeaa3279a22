// Graceful worker shutdown: a real worker process (`src/worker.ts`, i.e. main.ts --role worker) on the shared Redis
// and PostgreSQL gets SIGTERM in the middle of a batch: it finishes the jobs it holds (none is left active) and exits
// 0; another worker completes the batch, with exactly N analysis results. (The SIGKILL case, with API processes and
// GHL, is queue-scale.int.test.ts.)
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  hasSharedPostgres,
  hasSharedRedis,
  promtool,
  sharedPostgres,
  sharedRedis,
  waitFor,
  type SharedPostgres,
  type SharedRedis,
} from '@org/test-services';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDatabase, type Database } from '../../../src/db/database.js';
import { migrate } from '../../../src/db/migrations.js';
import { createImportedDefinitionSource } from '../../../src/features/workflows/definition-sources.js';
import { createBullAnalysisQueue, type AnalysisQueue } from '../../../src/jobs/index.js';
import { createLogger } from '../../../src/observability/logger.js';
import { spawnWorker, type AppProcess } from '../../support/child.js';
import { seedTenant } from '../../support/app.js';

const pgUp = await hasSharedPostgres();
const redisUp = await hasSharedRedis();
const FIXTURE = JSON.parse(
  readFileSync(
    fileURLToPath(new URL('../../../fakes/ghl/workflows/coaching-hot-lead-alert.json', import.meta.url)),
    'utf8',
  ),
) as Record<string, unknown>;
const LOCATIONS = 5;
const PER_LOCATION = 40;
const N = LOCATIONS * PER_LOCATION;

describe.skipIf(!pgUp || !redisUp)(`worker processes, ${N} workflows across ${LOCATIONS} locations`, () => {
  let pg: SharedPostgres;
  let redis: SharedRedis;
  let db: Database;
  let queue: AnalysisQueue;
  const workers: AppProcess[] = [];
  const newLocations = () => Array.from({ length: LOCATIONS }, (_, i) => `qw${randomBytes(6).toString('hex')}${i}`);
  const drained = newLocations();
  const prefix = () => redis.prefix.slice(0, -1);

  const queueBatches = async (of: string[]) => {
    const ids: string[] = [];
    for (const locationId of of) {
      const items = Array.from({ length: PER_LOCATION }, (_, i) => ({
        workflowId: `${locationId}-wf-${i}`,
        version: 1 + (i % 3),
      }));
      ids.push((await queue.createBatch(locationId, items)).batchId);
    }
    return ids;
  };
  const allFinished = async (ids: string[]) => {
    let last: Awaited<ReturnType<AnalysisQueue['getBatch']>>[] = [];
    await waitFor(
      'every batch to finish',
      async () => {
        last = await Promise.all(ids.map((id) => queue.getBatch(id)));
        return last.every((s) => s?.status === 'completed' || s?.status === 'failed');
      },
      90_000,
      250,
    );
    return last;
  };

  const startWorker = async () => {
    const worker = await spawnWorker({
      NODE_ENV: 'test',
      DATABASE_URL: pg.url,
      REDIS_URL: redis.url,
      // Redis answers late on a loaded machine: this test counts limits, it is not about the decision deadline.
      RATE_LIMIT_TIMEOUT_MS: '1000',
      QUEUE_PREFIX: prefix(),
      QUEUE_CONCURRENCY: '2',
      QUEUE_STALLED_INTERVAL_MS: '2000',
      LOG_LEVEL: 'info',
      ENABLE_METRICS: 'true',
    });
    workers.push(worker);
    return worker;
  };

  beforeAll(async () => {
    pg = await sharedPostgres('api_queue_workers');
    redis = await sharedRedis('queue_workers');
    await migrate({ url: pg.url });
    db = createDatabase({ url: pg.url, logger: createLogger({ level: 'silent' }) });
    const imported = createImportedDefinitionSource(db);
    for (const locationId of drained) {
      await seedTenant(db, locationId);
      for (let i = 0; i < PER_LOCATION; i++) {
        const id = `${locationId}-wf-${i}`;
        await imported.import(locationId, {
          ...FIXTURE,
          _id: id,
          id,
          locationId,
          name: `Workflow ${i}`,
          version: 1 + (i % 3),
        });
      }
    }
    // The test process plays the `api` role: it only queues and reads.
    queue = createBullAnalysisQueue({ redisUrl: redis.url, prefix: prefix() });
  }, 120_000);
  afterAll(async () => {
    for (const w of workers) if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGKILL');
    await Promise.all(workers.map((w) => w.exited));
    await queue?.close();
    await db?.close();
    await redis?.cleanup();
    await pg?.cleanup();
  });

  const resultCount = async (of: string[]) => {
    const { rows } = await db.query<{ n: string; distinct: string }>(
      'SELECT count(*)::text AS n, count(DISTINCT (location_id, workflow_id))::text AS distinct FROM analysis_results WHERE location_id = ANY($1)',
      [of],
    );
    return { n: Number(rows[0]!.n), distinct: Number(rows[0]!.distinct) };
  };

  it('SIGTERM: a worker finishes its running jobs (none left active) and exits 0; another worker completes the batch, exactly N', async () => {
    for (const w of workers) if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGKILL');
    await Promise.all(workers.map((w) => w.exited));
    const a = await startWorker();
    const batches = await queueBatches(drained);
    await waitFor('some results', async () => (await resultCount(drained)).n >= N / 4, 60_000, 20);
    a.child.kill('SIGTERM');
    const exit = await a.exited;
    expect(exit.code).toBe(0);
    expect(a.output()).toContain('worker stopped');
    // Graceful: the jobs it had taken were finished, not abandoned to stalled recovery.
    expect((await queue.counts()).active).toBe(0);
    expect((await resultCount(drained)).n).toBeLessThan(N);
    const b = await startWorker();
    const last = await allFinished(batches);
    for (const s of last) expect(s).toMatchObject({ status: 'completed', completed: PER_LOCATION });
    expect(await resultCount(drained)).toEqual({ n: N, distinct: N });

    // The worker's own probes and metrics (WORKER_PORT): the attempt counters are only counted where jobs run.
    expect(await (await fetch(`${b.base}/live`)).json()).toEqual({ status: 'alive', role: 'worker' });
    expect((await fetch(`${b.base}/ready`)).status).toBe(200);
    expect(await (await fetch(`${b.base}/nope`)).json()).toMatchObject({
      success: false,
      error: { code: 'NOT_FOUND' },
    });
    const exposition = await (await fetch(`${b.base}/metrics`)).text();
    const completed = Number(/^analysis_jobs_total\{outcome="completed"\} (\d+)/m.exec(exposition)?.[1]);
    expect(completed).toBeGreaterThan(0);
    expect(completed).toBeLessThanOrEqual(N);
    expect(exposition).toMatch(/^analysis_job_duration_seconds_count\{outcome="completed"\} [1-9]/m);
    expect(exposition).toMatch(/^analysis_queue_jobs\{state="completed"\} [1-9]/m);
    const check = promtool(['check', 'metrics'], exposition);
    expect(check, check.output).toMatchObject({ code: 0 });
  }, 150_000);
});
