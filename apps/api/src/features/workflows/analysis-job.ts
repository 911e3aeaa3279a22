import { AnalysisError } from '../../analysis/index.js';
import type { Queryable } from '../../db/database.js';
import { DatabaseUnavailableError } from '../../db/errors.js';
import { toHttpError } from '../../http/error-handler.js';
import { HttpError } from '../../http/errors.js';
import { PermanentJobError, type AnalysisProcessor } from '../../jobs/index.js';
import { WorkflowError } from './errors.js';
import { analysisStoredSince } from './queries.js';
import type { WorkflowService } from './service.js';

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
        const stored = await analysisStoredSince(deps.db, data, new Date(context.queuedAt));
        if (stored) {
          const view = await service.getAnalysis(data.locationId, stored);
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
      // The analyzer's refusals and the client errors the API would answer (4xx) fail the job at once; the rest retry.
      if (error instanceof HttpError || error instanceof WorkflowError || error instanceof AnalysisError) {
        const message = `${error.code}: ${error.message}`;
        if (error instanceof AnalysisError || toHttpError(error).status < 500)
          throw new PermanentJobError(message, { cause: error });
        throw new Error(message, { cause: error });
      }
      if (error instanceof DatabaseUnavailableError)
        throw new Error(`${error.code}: the database is unavailable; the job is retried`, { cause: error });
      throw new Error('ANALYSIS_FAILED: the analysis failed; the job is retried', { cause: error });
    }
  };
}
