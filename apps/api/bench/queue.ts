/*
 * Queue benchmark: analyses per second through the BullMQ queue with 1 and 2 worker processes (src/worker.ts, the
 * real composition root in the worker role) on PostgreSQL and Redis. Each run seeds fresh locations (outside the
 * timing), starts its workers, queues one batch per location and times until every batch has finished.
 * Run: pnpm --filter api bench:queue   (BENCH_ROUNDS, BENCH_WORKFLOWS to change the size)
 * Needs PostgreSQL on 127.0.0.1:5432 and Redis on 127.0.0.1:6379 (or DATABASE_URL / REDIS_URL for the shared ones).
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { cpus } from 'node:os';
import { interleave, markdownTable, medianOf, ratio, versionsOf } from '@org/bench';
import { sharedPostgres, sharedRedis, waitFor } from '@org/test-services';
import { createDatabase } from '../src/db/database.js';
import { migrate } from '../src/db/migrations.js';
import { createImportedDefinitionSource } from '../src/features/workflows/definition-sources.js';
import { createBullAnalysisQueue } from '../src/jobs/index.js';
import { createLogger } from '../src/observability/logger.js';
import { spawnWorker, type AppProcess } from '../test/support/child.js';
import { seedTenant } from '../test/support/app.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const WORKFLOWS = Number(process.env.BENCH_WORKFLOWS ?? 300);
const LOCATIONS = 3;
const FIXTURE = JSON.parse(
  readFileSync(fileURLToPath(new URL('../fakes/ghl/workflows/coaching-hot-lead-alert.json', import.meta.url)), 'utf8'),
) as Record<string, unknown>;

const pg = await sharedPostgres('api_bench_queue');
const redis = await sharedRedis('bench_queue');
await migrate({ url: pg.url });
const db = createDatabase({ url: pg.url, logger: createLogger({ level: 'silent' }) });
const imported = createImportedDefinitionSource(db);
const prefix = redis.prefix.slice(0, -1);
const queue = createBullAnalysisQueue({ redisUrl: redis.url, prefix });

async function seed(): Promise<{ locationId: string; items: { workflowId: string; version: number }[] }[]> {
  const perLocation = Math.ceil(WORKFLOWS / LOCATIONS);
  const out = [];
  for (let l = 0; l < LOCATIONS; l++) {
    const locationId = `bq${randomBytes(6).toString('hex')}${l}`;
    await seedTenant(db, locationId);
    const items = [];
    for (let i = 0; i < perLocation; i++) {
      const id = `${locationId}-wf-${i}`;
      await imported.import(locationId, { ...FIXTURE, _id: id, id, locationId, name: `Workflow ${i}`, version: 1 });
      items.push({ workflowId: id, version: 1 });
    }
    out.push({ locationId, items });
  }
  return out;
}

async function startWorker(): Promise<AppProcess> {
  // NODE_ENV=test: development defaults for the unset secrets, no demo mode; spawnApp gives the probes a free port.
  return spawnWorker({
    NODE_ENV: 'test',
    DATABASE_URL: pg.url,
    REDIS_URL: redis.url,
    QUEUE_PREFIX: prefix,
    QUEUE_CONCURRENCY: '2',
    LOG_LEVEL: 'info',
    ENABLE_METRICS: 'false',
  });
}

async function run(workers: number): Promise<{ perSecond: number }> {
  const locations = await seed();
  const procs: AppProcess[] = [];
  for (let i = 0; i < workers; i++) {
    procs.push(await startWorker());
  }
  const started = performance.now();
  const batches: string[] = [];
  for (const l of locations) batches.push((await queue.createBatch(l.locationId, l.items)).batchId);
  const total = locations.reduce((n, l) => n + l.items.length, 0);
  await waitFor(
    'batches done',
    async () =>
      (await Promise.all(batches.map((id) => queue.getBatch(id)))).every(
        (b) => b?.status === 'completed' || b?.status === 'failed',
      ),
    300_000,
    50,
  );
  const seconds = (performance.now() - started) / 1000;
  for (const p of procs) p.child.kill('SIGTERM');
  await Promise.all(procs.map((p) => p.exited));
  return { perSecond: total / seconds };
}

const results = await interleave(ROUNDS, { '1 worker': () => run(1), '2 workers': () => run(2) });
const one = medianOf(results['1 worker']!, (r) => r.perSecond);
const two = medianOf(results['2 workers']!, (r) => r.perSecond);
const versions = await versionsOf(['bullmq', 'ioredis', 'pg'], import.meta.url);
console.log(
  `\nQueue benchmark: ${WORKFLOWS} workflows over ${LOCATIONS} locations per run, ${ROUNDS} interleaved rounds, QUEUE_CONCURRENCY=2, ${cpus().length} CPUs, Node ${process.version}`,
);
console.log(
  `versions: ${Object.entries(versions)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ')}\n`,
);
console.log(
  markdownTable(
    ['workers', 'analyses/s (median)', 'vs 1 worker'],
    [
      ['1', one, '1.00x'],
      ['2', two, ratio(two, one)],
    ],
  ),
);
await queue.close();
await db.close();
await redis.cleanup();
await pg.cleanup();
