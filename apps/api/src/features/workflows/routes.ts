import type { RequestHandler } from 'express';
import { bearerAuth, cookieAuth, defineRoute } from '@org/openapi';
import { createApiRouter, implement, type ApiRouter } from '@org/openapi/express';
import { z } from 'zod';
import { InvalidDefinitionError } from '../../analysis/index.js';
import { requireAuth, requireScope } from '../../auth/middleware.js';
import { HttpError, notFound } from '../../http/errors.js';
import type { WorkflowService } from './service.js';
import type { AnalysisBudget, AnalysisQueue, JobEventStreams } from '../../jobs/index.js';
import { createJobRoutes, enqueueAnalysis, JobQueued, locationOf, ok } from './job-routes.js';
import { ROUTER_OPTIONS } from '../../http/routing.js';
import { ERROR_CATALOG } from '../../http/error-catalog.js';

/** The principal's location, or 404: an account-level credential has no workflows of its own. */
const requireLocation: RequestHandler = (req, _res, next) =>
  next(req.principal?.locationId ? undefined : notFound('Location'));

const Finding = z
  .object({
    ruleId: z.string(),
    severity: z.enum(['critical', 'high', 'medium', 'low', 'info']),
    title: z.string(),
    stepId: z.string().optional(),
    triggerId: z.string().optional(),
    message: z.string(),
    fix: z.string(),
  })
  .meta({ id: 'Finding', description: 'One problem found in a workflow, with how to fix it.' });

const WorkflowItem = z
  .object({
    id: z.string(),
    name: z.string(),
    status: z.string(),
    version: z.number().int(),
    updatedAt: z.string().nullable(),
    hasDefinition: z
      .boolean()
      .meta({ description: 'Whether steps and triggers are known (imported, or readable from the builder backend).' }),
    source: z.enum(['ghl', 'import', 'builder']),
  })
  .meta({ id: 'WorkflowItem', description: 'A workflow of the location.' });

const Analysis = z
  .object({
    id: z.string(),
    workflowId: z.string(),
    workflowVersion: z.number().int(),
    name: z.string().nullable(),
    score: z.number().int().min(0).max(100),
    band: z.string(),
    issuesFound: z.number().int(),
    findings: z.array(Finding),
    tier: z.enum(['free', 'pro', 'enterprise']),
    analyzerVersion: z.string(),
    createdAt: z.string(),
    cached: z.boolean(),
  })
  .meta({ id: 'Analysis', description: 'A health analysis of one workflow version.' });

const HistoryItem = z
  .object({
    id: z.string(),
    workflowId: z.string(),
    workflowVersion: z.number().int(),
    score: z.number().int(),
    issuesFound: z.number().int(),
    tier: z.string(),
    createdAt: z.string(),
  })
  .meta({ id: 'HistoryItem' });

const definitionBody = z.record(z.string(), z.unknown()).meta({
  description: 'A workflow definition in the canonical schema (GHL builder JSON with the triggers embedded).',
});
const workflowId = z.string().min(1).max(200);

const routes = {
  list: defineRoute({
    method: 'get',
    path: '/workflows',
    operationId: 'listWorkflows',
    summary: 'List workflows',
    description: "The location's workflows: GHL's metadata list merged with imported definitions. Cached 10 minutes.",
    tags: ['workflows'],
    responses: { 200: { description: 'The workflows.', body: ok(z.array(WorkflowItem)) } },
  }),
  get: defineRoute({
    method: 'get',
    path: '/workflows/:id',
    operationId: 'getWorkflow',
    summary: 'Get a workflow',
    description: 'One workflow with its definition when known.',
    tags: ['workflows'],
    request: { params: z.object({ id: workflowId }) },
    responses: {
      200: {
        description: 'The workflow.',
        body: ok(z.object({ workflow: WorkflowItem, definition: z.record(z.string(), z.unknown()).nullable() })),
      },
    },
  }),
  importDefinition: defineRoute({
    method: 'post',
    path: '/workflows/import',
    operationId: 'importWorkflow',
    summary: 'Import a workflow definition',
    description:
      'Validates a definition in the canonical schema and stores it for the location at its version (a re-import of a version replaces it).',
    tags: ['workflows'],
    request: { body: definitionBody },
    responses: { 201: { description: 'Stored.', body: ok(WorkflowItem) } },
  }),
  analyze: defineRoute({
    method: 'post',
    path: '/analyze',
    operationId: 'analyzeWorkflow',
    summary: 'Analyze a workflow',
    description:
      'Analyzes a stored workflow (`workflowId`; cached 1 hour per workflow version) or an inline definition. An API key needs the `analysis` scope (403 `INSUFFICIENT_SCOPE` without it). Subject to the tier’s analysis rate limit. With `async: true` the analysis of a stored workflow is queued (one job per workflow version) and the answer is 202 with the job id: follow it with `GET /jobs/{id}`.',
    tags: ['analysis'],
    request: {
      body: z.union([
        z.strictObject({
          workflowId,
          async: z.boolean().optional().meta({ description: 'Queue the analysis and answer 202 at once.' }),
        }),
        z.strictObject({ definition: definitionBody }),
      ]),
    },
    responses: {
      200: { description: 'The analysis.', body: ok(Analysis) },
      202: { description: 'Queued (`async: true`).', body: ok(JobQueued) },
    },
    // 403 INSUFFICIENT_SCOPE: an API key without the `analysis` scope. 422 ANALYSIS_TIME_BUDGET_EXCEEDED: the analysis
    // ran out of its time budget (ANALYSIS_TIME_BUDGET_MS).
    errors: [403, 422],
    // Documents the tier policy this route charges (one analysis per request, src/jobs/budget.ts) and the API-key scope it needs.
    extensions: { 'x-rate-limit-policy': 'analysis', 'x-api-key-scope': 'analysis' },
  }),
  getAnalysis: defineRoute({
    method: 'get',
    path: '/analyses/:id',
    operationId: 'getAnalysis',
    summary: 'Get an analysis',
    description: 'One stored analysis of the location.',
    tags: ['analysis'],
    request: { params: z.object({ id: z.string().min(1).max(40) }) },
    responses: { 200: { description: 'The analysis.', body: ok(Analysis) } },
  }),
  history: defineRoute({
    method: 'get',
    path: '/history',
    operationId: 'analysisHistory',
    summary: 'Analysis history',
    description: "Newest first, keyset-paginated, within the tier's retention (free 7 days, pro 90, enterprise all).",
    tags: ['analysis'],
    request: {
      query: z.object({
        workflowId: workflowId.optional(),
        from: z.iso.datetime({ offset: true }).optional().meta({ description: 'Inclusive lower bound of createdAt.' }),
        to: z.iso.datetime({ offset: true }).optional().meta({ description: 'Exclusive upper bound of createdAt.' }),
        minScore: z.coerce.number().int().min(0).max(100).optional(),
        limit: z.coerce.number().int().min(1).max(100).default(20),
        cursor: z.string().max(200).optional().meta({ description: '`nextCursor` of the previous page.' }),
      }),
    },
    responses: {
      200: {
        description: 'One page.',
        body: ok(
          z.object({
            items: z.array(HistoryItem),
            nextCursor: z.string().nullable(),
            retentionDays: z.number().int().nullable(),
          }),
        ),
      },
    },
  }),
  health: defineRoute({
    method: 'get',
    path: '/locations/current/health',
    operationId: 'locationHealth',
    summary: 'Location health',
    description:
      "The location score (mean of its workflows' scores, drafts weighted 0.25) and each workflow's score. Counts as one analysis against the tier's analysis rate limit. An API key needs the `analysis` scope (403 `INSUFFICIENT_SCOPE` without it).",
    tags: ['analysis'],
    extensions: { 'x-rate-limit-policy': 'analysis', 'x-api-key-scope': 'analysis' },
    errors: [403],
    responses: {
      200: {
        description: 'The location health.',
        body: ok(
          z.object({
            locationId: z.string(),
            score: z.number().int().nullable(),
            band: z.string().nullable(),
            workflows: z.array(
              z.object({
                workflowId: z.string(),
                name: z.string(),
                status: z.string(),
                score: z.number().int(),
                band: z.string(),
                issuesFound: z.number().int(),
              }),
            ),
          }),
        ),
      },
    },
  }),
};

/** Malformed definitions become 400 with every problem listed (the analyzer's issues). */
function invalidDefinition(error: unknown): never {
  if (error instanceof InvalidDefinitionError) {
    throw new HttpError(400, 'INVALID_WORKFLOW_DEFINITION', 'The workflow definition is not valid', {
      details: { issues: error.issues },
    });
  }
  throw error;
}

/**
 * Workflow, analysis and history routes, documented and validated through @org/openapi. Mounted inside the
 * v1 router (so at /api and /v1/api), after authentication; every query is scoped to the principal's location.
 */
export function createWorkflowRoutes(deps: {
  service: WorkflowService;
  queue: AnalysisQueue;
  budget?: AnalysisBudget;
  streams: JobEventStreams;
  lastAudit?: Parameters<typeof createJobRoutes>[0]['lastAudit'];
}): ApiRouter {
  const { service } = deps;
  const before = [requireAuth, requireLocation];
  // Routes that run analyses refuse an API key without the `analysis` scope (sessions hold every scope), before
  // anything is charged to the tier's analysis budget.
  const analysis = [...before, requireScope('analysis')];
  return createApiRouter({
    routing: ROUTER_OPTIONS,
    info: {
      title: 'GHL workflow health API',
      version: '1.0.0',
      description: 'Workflow health analysis for GoHighLevel locations.',
    },
    servers: [
      { url: '/api', description: 'Canonical path.' },
      { url: '/v1/api', description: 'Versioned alias of /api.' },
    ],
    securitySchemes: { session: cookieAuth('session'), apiKey: bearerAuth() },
    security: [{ session: [] }, { apiKey: [] }],
    tags: [{ name: 'workflows' }, { name: 'analysis' }],
    // Served by the app-wide document (src/routes/api-docs.ts), not per router.
    errors: ERROR_CATALOG,
    docs: { enabled: false },
    // The app already parsed JSON (100 KB limit) before authentication.
    parseJson: false,
    routes: [
      implement(
        routes.list,
        async (req, res) => res.reply(200, { success: true, data: await service.listWorkflows(locationOf(req)) }),
        { before },
      ),
      implement(
        routes.get,
        async (req, res) =>
          res.reply(200, { success: true, data: (await service.getWorkflow(locationOf(req), req.params.id)) as never }),
        { before },
      ),
      implement(
        routes.importDefinition,
        async (req, res) =>
          res.reply(201, {
            success: true,
            data: await service.importDefinition(locationOf(req), req.body).catch(invalidDefinition),
          }),
        { before },
      ),
      implement(
        routes.analyze,
        async (req, res) => {
          const body = req.body;
          // Charged here, where the route is known, after validation: every spelling of the path that reaches this
          // handler spends one analysis, and a malformed body spends none.
          await deps.budget?.(locationOf(req), 1);
          if ('workflowId' in body && body.async) {
            res.reply(202, {
              success: true,
              data: await enqueueAnalysis({ queue: deps.queue, service }, locationOf(req), body.workflowId),
            });
            return;
          }
          const input = 'workflowId' in body ? { workflowId: body.workflowId } : body;
          res.reply(200, {
            success: true,
            data: (await service.analyze(locationOf(req), input).catch(invalidDefinition)) as never,
          });
        },
        { before: analysis },
      ),
      implement(
        routes.getAnalysis,
        async (req, res) =>
          res.reply(200, { success: true, data: (await service.getAnalysis(locationOf(req), req.params.id)) as never }),
        { before },
      ),
      implement(
        routes.history,
        async (req, res) => {
          const q = req.query;
          const data = await service.history(locationOf(req), {
            workflowId: q.workflowId,
            from: q.from ? new Date(q.from) : undefined,
            to: q.to ? new Date(q.to) : undefined,
            minScore: q.minScore,
            limit: q.limit,
            cursor: q.cursor,
          });
          res.reply(200, { success: true, data });
        },
        { before },
      ),
      implement(
        routes.health,
        async (req, res) => {
          // The location health analyses every workflow of the location: it spends one analysis of the tier's budget.
          await deps.budget?.(locationOf(req), 1);
          res.reply(200, { success: true, data: await service.locationHealth(locationOf(req)) });
        },
        { before: analysis },
      ),
      ...createJobRoutes({
        queue: deps.queue,
        service,
        budget: deps.budget,
        streams: deps.streams,
        lastAudit: deps.lastAudit,
        before,
        analysisBefore: analysis,
      }),
    ],
  });
}
