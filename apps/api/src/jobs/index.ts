import { createBullAnalysisQueue, type BullAnalysisQueueOptions } from './bullmq-queue.js';
import { createMemoryAnalysisQueue } from './memory-queue.js';
import type { AnalysisQueue, AnalysisQueueOptions } from './types.js';

export * from './types.js';
export { isBatchId, summarizeBatch } from './batch.js';
export { PermanentJobError, QueueError } from './errors.js';
export { analysisJobId } from './options.js';
export { createBullAnalysisQueue, ANALYSIS_QUEUE_NAME } from './bullmq-queue.js';
export { createMemoryAnalysisQueue } from './memory-queue.js';
export { syncAuditSchedules } from './audit-schedules.js';

/** BullMQ on `redisUrl`, else the in-process queue (which always runs its jobs here). */
export function createAnalysisQueue(
  options: AnalysisQueueOptions &
    Partial<Pick<BullAnalysisQueueOptions, 'redisUrl' | 'prefix' | 'stalledIntervalMs' | 'maxStalledCount'>>,
): AnalysisQueue {
  if (options.redisUrl) return createBullAnalysisQueue({ ...options, redisUrl: options.redisUrl });
  // Without Redis there are no separate workers: this process runs its own jobs (the `processor` is required).
  return createMemoryAnalysisQueue(options);
}
export { createAnalysisBudget, type AnalysisBudget } from './budget.js';
export { createJobEventStreams, type JobEventStreams, type JobEventStreamsOptions } from './events.js';
export { createQueueMetrics } from './metrics.js';
