import type { Metrics } from '@org/metrics';
import type { AnalysisQueue, JobAttemptEvent, JobStatus } from './types.js';

const STATES: readonly JobStatus[] = ['queued', 'active', 'delayed', 'completed', 'failed'];

/**
 * Queue metrics on the app's @org/metrics handle: `analysis_queue_jobs{state}` (depth, read from the queue at each
 * scrape: on Redis every process reports the same shared depth), `analysis_jobs_total{outcome}` (completed, retry,
 * failed attempts run by this process), `analysis_job_retries_total` and `analysis_job_duration_seconds{outcome}`.
 * `onAttempt` goes to the queue options; `observe(queue)` starts reporting its depth.
 */
export function createQueueMetrics(metrics: Metrics) {
  let source: AnalysisQueue | undefined;
  metrics.gauge({
    name: 'analysis_queue_jobs',
    help: 'Analysis jobs by state (queue depth).',
    labelNames: ['state'],
    // Every process sees the same shared queue: the max, not the sum, across cluster workers.
    aggregator: 'max',
    async collect() {
      if (!source) return;
      const counts = await source.counts();
      for (const state of STATES) this.set({ state }, counts[state]);
    },
  });
  const attempts = metrics.counter({
    name: 'analysis_jobs_total',
    help: 'Analysis job attempts run by this process, by outcome (completed, retry, failed).',
    labelNames: ['outcome'],
  });
  const retries = metrics.counter({
    name: 'analysis_job_retries_total',
    help: 'Analysis job attempts that failed and will be retried (exponential backoff).',
  });
  const duration = metrics.histogram({
    name: 'analysis_job_duration_seconds',
    help: 'Duration of analysis job attempts, in seconds.',
    labelNames: ['outcome'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  });
  return {
    onAttempt(event: JobAttemptEvent) {
      attempts.inc({ outcome: event.outcome });
      if (event.outcome === 'retry') retries.inc();
      duration.observe({ outcome: event.outcome }, event.durationMs / 1000);
    },
    observe(queue: AnalysisQueue) {
      source = queue;
    },
  };
}
