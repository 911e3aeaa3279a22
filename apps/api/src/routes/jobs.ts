import type { RequestHandler } from 'express';
import { defineRoute } from '@org/openapi';
import { implement } from '@org/openapi/express';
import { z } from 'zod';
import { notFound } from '../http/errors.js';
import type { AnalysisQueue, JobSnapshot } from '../jobs/index.js';
import type { WorkflowService } from '../workflows/service.js';

const locationOf = (req: { principal?: { locationId: string | null } }) => req.principal!.locationId!;
const ok = <T extends z.ZodType>(data: T) => z.object({ success: z.literal(true), data });

export const JobQueued = z
  .object({ jobId: z.string(), status: z.literal('queued'), duplicate: z.boolean().meta({ description: 'True when this analysis (same workflow version) was already queued or done: no new job.' }) })
  .meta({ id: 'JobQueued', description: 'An analysis accepted for background processing.' });

const Job = z
  .object({
    id: z.string(),
    workflowId: z.string(),
    version: z.number().int(),
    status: z.enum(['queued', 'active', 'delayed', 'completed', 'failed']).meta({ description: '`delayed`: waiting for a retry (exponential backoff).' }),
    progress: z.number().int().min(0).max(100),
    attemptsMade: z.number().int(),
    result: z.unknown().meta({ description: 'The stored analysis (see Analysis) once completed, else null.' }),
    error: z.string().nullable().meta({ description: 'The last failure, null when none.' }),
    createdAt: z.string(),
    finishedAt: z.string().nullable(),
  })
  .meta({ id: 'Job', description: 'A background analysis job.' });

const jobId = z.string().min(1).max(80);

export const jobRouteDefinitions = {
  getJob: defineRoute({
    method: 'get',
    path: '/jobs/:id',
    operationId: 'getJob',
    summary: 'Get a background job',
    description: "Status, progress, result and errors of one of the location's analysis jobs. Another location's job is 404.",
    tags: ['analysis'],
    request: { params: z.object({ id: jobId }) },
    responses: { 200: { description: 'The job.', body: ok(Job) } },
  }),
};

/** The job as the API shows it (the location id is the caller's own, so it is left out). */
export function jobView(job: JobSnapshot) {
  const { locationId: _location, ...rest } = job;
  return rest;
}

/** Queues the analysis of the workflow's current version: the answer of `POST /analyze` with `async: true`. */
export async function enqueueAnalysis(deps: { queue: AnalysisQueue; service: WorkflowService }, locationId: string, workflowId: string) {
  // 404 for an unknown workflow before anything is queued; the version makes the job id.
  const { workflow } = await deps.service.getWorkflow(locationId, workflowId);
  const { jobId: id, duplicate } = await deps.queue.enqueue({ locationId, workflowId, version: workflow.version });
  return { jobId: id, status: 'queued' as const, duplicate };
}

/** `GET /jobs/:id`, tenant-scoped. */
export function createJobRoutes(deps: { queue: AnalysisQueue; before: RequestHandler[] }) {
  return [
    implement(
      jobRouteDefinitions.getJob,
      async (req, res) => {
        const job = await deps.queue.get(req.params.id);
        // Another location's job is answered like an unknown one: no oracle.
        if (!job || job.locationId !== locationOf(req)) throw notFound('Job');
        res.reply(200, { success: true, data: jobView(job) as never });
      },
      { before: deps.before },
    ),
  ];
}
