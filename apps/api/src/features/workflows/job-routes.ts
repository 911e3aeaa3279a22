import type { RequestHandler } from 'express';
import { defineRoute } from '@org/openapi';
import { implement } from '@org/openapi/express';
import { z } from 'zod';
import { notFound } from '../../http/errors.js';
import { HttpError } from '../../http/errors.js';
import {
  isBatchId,
  type JobEventStreams,
  type AnalysisBudget,
  type AnalysisQueue,
  type BatchSnapshot,
  type JobSnapshot,
} from '../../jobs/index.js';
import type { WorkflowService } from './service.js';

/** The caller's location: the routes run after requireLocation, so it is set. */
export const locationOf = (req: { principal?: { locationId: string | null } }) => req.principal!.locationId!;
/** The success envelope of every JSON answer: `{ success: true, data }`. */
export const ok = <T extends z.ZodType>(data: T) => z.object({ success: z.literal(true), data });

export const JobQueued = z
  .object({
    jobId: z.string(),
    status: z.literal('queued'),
    duplicate: z
      .boolean()
      .meta({ description: 'True when this analysis (same workflow version) was already queued or done: no new job.' }),
  })
  .meta({ id: 'JobQueued', description: 'An analysis accepted for background processing.' });

const Job = z
  .object({
    id: z.string(),
    workflowId: z.string(),
    version: z.number().int(),
    status: z
      .enum(['queued', 'active', 'delayed', 'completed', 'failed'])
      .meta({ description: '`delayed`: waiting for a retry (exponential backoff).' }),
    progress: z.number().int().min(0).max(100),
    attemptsMade: z.number().int(),
    result: z.unknown().meta({ description: 'The stored analysis (see Analysis) once completed, else null.' }),
    error: z.string().nullable().meta({ description: 'The last failure, null when none.' }),
    createdAt: z.string(),
    finishedAt: z.string().nullable(),
  })
  .meta({ id: 'Job', description: 'A background analysis job.' });

const Batch = z
  .object({
    id: z.string(),
    kind: z.literal('batch'),
    status: z
      .enum(['queued', 'active', 'completed', 'failed'])
      .meta({ description: '`failed` only when every workflow failed.' }),
    progress: z.number().int().min(0).max(100),
    total: z.number().int(),
    completed: z.number().int(),
    failed: z.number().int(),
    result: z.object({
      score: z
        .number()
        .int()
        .nullable()
        .meta({ description: "Location score: the mean of the analysed workflows' scores." }),
      workflows: z.array(
        z.object({
          workflowId: z.string(),
          version: z.number().int(),
          jobId: z.string(),
          status: z.string(),
          score: z.number().int().nullable(),
        }),
      ),
    }),
    errors: z.array(z.object({ workflowId: z.string(), jobId: z.string(), error: z.string() })),
    createdAt: z.string(),
    finishedAt: z.string().nullable(),
  })
  .meta({ id: 'Batch', description: 'A batch analysis: one parent with a child job per workflow.' });

const BatchQueued = z
  .object({
    jobId: z.string().meta({ description: 'The batch (parent) id: `GET /jobs/{id}`.' }),
    status: z.literal('queued'),
    total: z.number().int(),
    children: z.array(z.string()),
  })
  .meta({ id: 'BatchQueued' });

const Audit = z
  .object({
    schedule: z
      .object({
        pattern: z.string(),
        timeZone: z.string(),
        next: z.string().nullable().meta({ description: 'The next run (ISO 8601).' }),
      })
      .nullable()
      .meta({ description: 'Null when the location is not audited (AUDIT_CRON unset, or not connected to GHL).' }),
    last: z
      .object({
        ranAt: z.string(),
        checked: z.number().int().meta({ description: 'Workflows with a definition the audit looked at.' }),
        queued: z
          .number()
          .int()
          .meta({ description: 'Workflows whose current version had no analysis yet: queued as one batch.' }),
        batchId: z
          .string()
          .nullable()
          .meta({ description: 'The batch of those analyses (`GET /jobs/{id}`), null when nothing changed.' }),
      })
      .nullable(),
  })
  .meta({ id: 'Audit', description: "The location's scheduled audit: when it runs next and what it did last." });

/** At most this many workflows per batch (a location with more is analysed in several batches). */
export const MAX_BATCH_ITEMS = 500;

const jobId = z.string().min(1).max(80);

export const jobRouteDefinitions = {
  getJob: defineRoute({
    method: 'get',
    path: '/jobs/:id',
    operationId: 'getJob',
    summary: 'Get a background job',
    description:
      "Status, progress, result and errors of one of the location's analysis jobs. Another location's job is 404.",
    tags: ['analysis'],
    request: { params: z.object({ id: jobId }) },
    responses: {
      200: {
        description: 'The job, or the batch when the id is a batch id (`ba_...`).',
        body: ok(z.union([Job, Batch])),
      },
    },
  }),
  events: defineRoute({
    method: 'get',
    path: '/jobs/:id/events',
    operationId: 'jobEvents',
    summary: 'Stream job progress (Server-Sent Events)',
    description:
      "A `text/event-stream` of `progress` events (`{ id, status, progress }`, progress never goes down) and one final `end` event carrying the job as `GET /jobs/{id}` shows it; the stream then closes. Not compressed, not buffered. Another location's job is 404. At most 5 streams per location are open at once (429 `TOO_MANY_STREAMS` beyond), and a stream ends after 10 minutes (JOB_EVENTS_MAX_LIFETIME_MS) with an `expired` event carrying `reconnect: true` (an EventSource reconnects).",
    tags: ['analysis'],
    request: { params: z.object({ id: jobId }) },
    responses: { 200: { description: 'The event stream.', contentType: 'text/event-stream', body: z.string() } },
  }),
  audit: defineRoute({
    method: 'get',
    path: '/locations/current/audit',
    operationId: 'locationAudit',
    summary: "The location's scheduled audit",
    description:
      "When the location is audited next (the service's AUDIT_CRON) and what its last audit did. An audit analyses every workflow whose current version has no analysis yet, as one batch; it does not count against the tier's analysis limit.",
    tags: ['analysis'],
    responses: { 200: { description: 'The schedule and the last audit.', body: ok(Audit) } },
  }),
  batch: defineRoute({
    method: 'post',
    path: '/analyses/batch',
    operationId: 'analyzeBatch',
    summary: 'Analyze many workflows in the background',
    description: `Queues one parent job with a child analysis per workflow (\`workflowIds\`, or \`all: true\` for every workflow of the location with a known definition; at most ${MAX_BATCH_ITEMS}). Each item counts against the tier's analysis rate limit; a batch that does not fit is refused whole (429). An API key needs the \`analysis\` scope (403 \`INSUFFICIENT_SCOPE\` without it). Follow it with \`GET /jobs/{id}\`.`,
    tags: ['analysis'],
    request: {
      body: z.union([
        z.strictObject({ workflowIds: z.array(z.string().min(1).max(200)).min(1).max(MAX_BATCH_ITEMS) }),
        z.strictObject({ all: z.literal(true) }),
      ]),
    },
    responses: { 202: { description: 'Queued.', body: ok(BatchQueued) } },
    errors: [403],
    extensions: { 'x-rate-limit-policy': 'analysis', 'x-api-key-scope': 'analysis' },
  }),
};

/** The job as the API shows it (the location id is the caller's own, so it is left out). */
export function jobView(job: JobSnapshot | BatchSnapshot) {
  const { locationId: _location, ...rest } = job;
  return rest;
}

/** Queues the analysis of the workflow's current version: the answer of `POST /analyze` with `async: true`. */
export async function enqueueAnalysis(
  deps: { queue: AnalysisQueue; service: WorkflowService },
  locationId: string,
  workflowId: string,
) {
  // 404 for an unknown workflow before anything is queued; the version makes the job id.
  const { workflow } = await deps.service.getWorkflow(locationId, workflowId);
  const { jobId: id, duplicate } = await deps.queue.enqueue({ locationId, workflowId, version: workflow.version });
  return { jobId: id, status: 'queued' as const, duplicate };
}

/** `GET /jobs/:id` (tenant-scoped) and `POST /analyses/batch`. */
export function createJobRoutes(deps: {
  queue: AnalysisQueue;
  service: WorkflowService;
  budget?: AnalysisBudget;
  streams: JobEventStreams;
  /** The location's last audit (src/features/workflows/audit.ts `lastAudit`). @default none: `last` is always null */
  lastAudit?: (locationId: string) => Promise<z.infer<typeof Audit>['last']>;
  before: RequestHandler[];
  /** The guards of routes that run analyses (`before` and the `analysis` scope). @default before */
  analysisBefore?: RequestHandler[];
}) {
  const { queue, service } = deps;
  const read = (id: string) => (isBatchId(id) ? queue.getBatch(id) : queue.get(id));
  const { streams } = deps;
  return [
    implement(
      jobRouteDefinitions.events,
      async (req, res) => {
        const locationId = locationOf(req);
        const job = await read(req.params.id);
        if (!job || job.locationId !== locationId) throw notFound('Job');
        streams.stream(res, req.params.id, jobView, locationId);
      },
      { before: deps.before },
    ),
    implement(
      jobRouteDefinitions.batch,
      async (req, res) => {
        const locationId = locationOf(req);
        const workflows = await service.listWorkflows(locationId);
        let items: { workflowId: string; version: number }[];
        if ('all' in req.body) {
          items = workflows.filter((w) => w.hasDefinition).map((w) => ({ workflowId: w.id, version: w.version }));
          if (items.length > MAX_BATCH_ITEMS)
            throw new HttpError(
              400,
              'BATCH_TOO_LARGE',
              `The location has ${items.length} workflows; send at most ${MAX_BATCH_ITEMS} workflowIds per batch`,
            );
        } else {
          const byId = new Map(workflows.map((w) => [w.id, w]));
          const ids = [...new Set(req.body.workflowIds)];
          const unknown = ids.filter((id) => !byId.has(id));
          if (unknown.length > 0)
            throw new HttpError(404, 'NOT_FOUND', 'Workflow not found', { details: { workflowIds: unknown } });
          items = ids.map((id) => ({ workflowId: id, version: byId.get(id)!.version }));
        }
        if (items.length === 0)
          throw new HttpError(400, 'BATCH_EMPTY', 'The location has no workflow with a known definition to analyse');
        await deps.budget?.(locationId, items.length);
        const { batchId, jobIds } = await queue.createBatch(locationId, items);
        res.reply(202, {
          success: true,
          data: { jobId: batchId, status: 'queued', total: items.length, children: jobIds },
        });
      },
      { before: deps.analysisBefore ?? deps.before },
    ),
    implement(
      jobRouteDefinitions.audit,
      async (req, res) => {
        const locationId = locationOf(req);
        const [schedule, last] = await Promise.all([
          queue.auditSchedule(locationId),
          deps.lastAudit?.(locationId) ?? null,
        ]);
        res.reply(200, {
          success: true,
          data: {
            schedule: schedule ? { pattern: schedule.pattern, timeZone: schedule.timeZone, next: schedule.next } : null,
            last,
          },
        });
      },
      { before: deps.before },
    ),
    implement(
      jobRouteDefinitions.getJob,
      async (req, res) => {
        const job = await read(req.params.id);
        // Another location's job is answered like an unknown one: no oracle.
        if (!job || job.locationId !== locationOf(req)) throw notFound('Job');
        res.reply(200, { success: true, data: jobView(job) as never });
      },
      { before: deps.before },
    ),
  ];
}
