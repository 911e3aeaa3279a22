import { AnalysisError } from '../analysis/index.js';
import { HttpError } from '../http/errors.js';
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

/**
 * The job body: the workflow service's own analysis (same code path as `POST /analyze`, which stores the result in
 * analysis_results). Client errors (unknown workflow, invalid definition) fail the job at once; others are retried.
 */
export function analysisProcessor(service: WorkflowService): AnalysisProcessor {
  return async (data, context) => {
    await context.progress(10);
    try {
      const view = await service.analyze(data.locationId, { workflowId: data.workflowId });
      await context.progress(100);
      return view;
    } catch (error) {
      if ((error instanceof HttpError && error.status < 500) || error instanceof AnalysisError) {
        throw new PermanentJobError(error.message, { cause: error });
      }
      throw error;
    }
  };
}

/** BullMQ on `redisUrl`, else the in-process queue (which always runs its jobs here). */
export function createAnalysisQueue(options: AnalysisQueueOptions & Partial<Pick<BullAnalysisQueueOptions, 'redisUrl' | 'prefix' | 'stalledIntervalMs'>>): AnalysisQueue {
  return options.redisUrl ? createBullAnalysisQueue({ ...options, redisUrl: options.redisUrl }) : createMemoryAnalysisQueue(options);
}
export { createAnalysisBudget, type AnalysisBudget } from './budget.js';
export { createJobEventStreams, type JobEventStreams, type JobEventStreamsOptions } from './events.js';
