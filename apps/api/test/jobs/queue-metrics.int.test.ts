// Queue metrics through the app's @org/metrics handle (a real prom-client registry), for both queue implementations:
// depth by state, attempts by outcome, retries and durations of real jobs.
import { createMetrics } from '@org/metrics';
import { hasSharedRedis, sharedRedis, waitFor, type SharedRedis } from '@org/test-services';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createBullAnalysisQueue,
  createMemoryAnalysisQueue,
  createQueueMetrics,
  PermanentJobError,
  type AnalysisQueue,
  type AnalysisQueueOptions,
} from '../../src/jobs/index.js';

const redisUp = await hasSharedRedis();
const handles: SharedRedis[] = [];

const implementations: [string, (o: AnalysisQueueOptions) => Promise<AnalysisQueue>, boolean][] = [
  ['in-process queue', async (o) => createMemoryAnalysisQueue(o), true],
  [
    'BullMQ on the shared Redis',
    async (o) => {
      const redis = await sharedRedis('queue_metrics');
      handles.push(redis);
      return createBullAnalysisQueue({ ...o, redisUrl: redis.url, prefix: redis.prefix.slice(0, -1) });
    },
    redisUp,
  ],
];

describe.each(implementations)('queue metrics: %s', (_name, open, available) => {
  const queues: AnalysisQueue[] = [];
  afterEach(async () => {
    await Promise.all(queues.splice(0).map((q) => q.close()));
    await Promise.all(handles.splice(0).map((h) => h.cleanup()));
  });

  it.skipIf(!available)('depth by state, attempts by outcome, retries and job duration', async () => {
    const metrics = createMetrics({ runtime: false });
    const queueMetrics = createQueueMetrics(metrics);
    const q = await open({
      backoffMs: 20,
      attempts: 3,
      onAttempt: queueMetrics.onAttempt,
      processor: async (data, ctx) => {
        if (data.workflowId === 'flaky' && ctx.attempt === 1) throw new Error('transient');
        if (data.workflowId === 'broken') throw new PermanentJobError('gone');
        return { ok: true };
      },
    });
    queues.push(q);
    queueMetrics.observe(q);
    const ids = await Promise.all(
      ['ok', 'flaky', 'broken'].map(
        async (workflowId) => (await q.enqueue({ locationId: 'm', workflowId, version: 1 })).jobId,
      ),
    );
    await waitFor(
      'the jobs to end',
      async () =>
        (await Promise.all(ids.map((id) => q.get(id)))).every(
          (j) => j?.status === 'completed' || j?.status === 'failed',
        ),
      20_000,
    );
    const text = await metrics.registry.metrics();
    expect(text).toMatch(/analysis_queue_jobs\{state="completed"\} 2/);
    expect(text).toMatch(/analysis_queue_jobs\{state="failed"\} 1/);
    expect(text).toMatch(/analysis_queue_jobs\{state="queued"\} 0/);
    expect(text).toMatch(/analysis_jobs_total\{outcome="completed"\} 2/);
    expect(text).toMatch(/analysis_jobs_total\{outcome="retry"\} 1/);
    expect(text).toMatch(/analysis_jobs_total\{outcome="failed"\} 1/);
    expect(text).toMatch(/analysis_job_retries_total 1/);
    expect(text).toMatch(/analysis_job_duration_seconds_count\{outcome="completed"\} 2/);
    metrics.close();
  });
});
