import { AnalysisError } from '../analysis/index.js';
import { HttpError } from '../http/errors.js';
import { DatabaseUnavailableError } from '../db/errors.js';
import type { Queryable } from '../db/database.js';
import type { WorkflowService } from '../workflows/service.js';
import { createBullAnalysisQueue, type BullAnalysisQueueOptions } from './bullmq-queue.js';
import { PermanentJobError } from './errors.js';
import { createMemoryAnalysisQueue } from './memory-queue.js';
import type { AnalysisProcessor, AnalysisQueue, AnalysisQueueOptions } from './types.js';

export * from './types.js';
export { isBatchId, summarizeBatch, type BatchSnapshot } from './batch.js';
export { PermanentJobError, QueueError } from './errors.js';
export { analysisJobId } from './options.js';
export { createBullAnalysisQueue, ANALYSIS_QUEUE_NAME } from './bullmq-queue.js';
export { createMemoryAnalysisQueue } from './memory-queue.js';
export { auditProcessor, lastAudit, type AuditProcessorDeps } from './audit.js';
export { syncAuditSchedules } from './audit-schedules.js';

/**
 * The job body: the workflow service's own analysis (same code path as `POST /analyze`, which stores the result in
 * analysis_results). Client errors (unknown workflow, invalid definition) fail the job at once; others are retried.
 */
export function analysisProcessor(service: WorkflowService, deps: { db?: Queryable } = {}): AnalysisProcessor {
  return async (data, context) => {
    await context.progress(10);
    try {
      // A job re-run after its worker died (stalled-job recovery, or a retry after the insert) must not store a
      // second result: reuse the row this job already wrote, if any.
      if (deps.db) {
        const { rows } = await deps.db.query<{ id: string }>(
          'SELECT id::text AS id FROM analysis_results WHERE location_id = $1 AND workflow_id = $2 AND workflow_version = $3 AND created_at >= $4 ORDER BY id LIMIT 1',
          [data.locationId, data.workflowId, data.version, new Date(context.queuedAt)],
        );
        if (rows[0]) {
          const view = await service.getAnalysis(data.locationId, rows[0].id);
          await context.progress(100);
          return view;
        }
      }
      // Pinned to the queued version: the job id names it, so its result must be of it.
      const view = await service.analyze(data.locationId, { workflowId: data.workflowId, version: data.version });
      await context.progress(100);
      return view;
    } catch (error) {
      // A job's error is shown to the client (`GET /jobs/:id`): a stable code and a message safe to show, never a
      // driver's or upstream's raw text (values, hosts, queries). The original stays the `cause`.
      if ((error instanceof HttpError && error.status < 500) || error instanceof AnalysisError) {
        throw new PermanentJobError(`${error.code}: ${error.message}`, { cause: error });
      }
      if (error instanceof HttpError) throw new Error(`${error.code}: ${error.message}`, { cause: error });
      if (error instanceof DatabaseUnavailableError) throw new Error(`${error.code}: the database is unavailable; the job is retried`, { cause: error });
      throw new Error('ANALYSIS_FAILED: the analysis failed; the job is retried', { cause: error });
    }
  };
}

/** BullMQ on `redisUrl`, else the in-process queue (which always runs its jobs here). */
export function createAnalysisQueue(options: AnalysisQueueOptions & Partial<Pick<BullAnalysisQueueOptions, 'redisUrl' | 'prefix' | 'stalledIntervalMs' | 'maxStalledCount'>>): AnalysisQueue {
  if (options.redisUrl) return createBullAnalysisQueue({ ...options, redisUrl: options.redisUrl });
  // Without Redis there are no separate workers: this process runs its own jobs (the `processor` is required).
  return createMemoryAnalysisQueue(options);
}
export { createAnalysisBudget, type AnalysisBudget } from './budget.js';
export { createJobEventStreams, type JobEventStreams, type JobEventStreamsOptions } from './events.js';
export { createQueueMetrics } from './metrics.js';
