import { bearerAuth, cookieAuth, defineRoute, type RouteDefinition } from '@org/openapi';
import { createApiRouter, implement, type ApiRouter } from '@org/openapi/express';
import { z } from 'zod';
import { ROUTER_OPTIONS } from '../http/routing.js';
import { ERROR_CATALOG } from '../http/error-catalog.js';

const LocationId = z
  .string()
  .min(1)
  .max(64)
  .meta({ description: 'A GHL location id (the tenant).', example: 've9EPM428h8vShlRW1KT' });
const Analysis = z
  .object({
    id: z.string(),
    locationId: z.string(),
    workflowId: z.string(),
    workflowVersion: z.number().int().nullable(),
    healthScore: z.number().int().min(0).max(100),
    issuesFound: z.number().int().min(0),
    tier: z.enum(['free', 'pro', 'enterprise']),
    createdAt: z.string(),
  })
  .meta({ id: 'AnalysisSummary', description: 'One stored analysis of a workflow.' });
const tags = ['platform'];

/**
 * The v1 platform routes of src/app/api-v1.ts, documented with @org/openapi. The handlers stay in api-v1.ts (they
 * validate by hand); the contract test (test/app/openapi.int.test.ts) fails when the two disagree.
 */
export const platformRoutes = [
  defineRoute({
    method: 'get',
    path: '/me',
    operationId: 'getMe',
    summary: 'The caller',
    description: 'The account and location of the session or API key.',
    tags,
    responses: {
      200: {
        description: 'The authenticated principal.',
        body: z.object({
          success: z.literal(true),
          data: z.object({
            accountId: z.string(),
            locationId: z.string().nullable(),
            authenticatedBy: z.enum(['session', 'api-key']),
          }),
        }),
      },
    },
  }),
  defineRoute({
    method: 'post',
    path: '/session/logout',
    operationId: 'logout',
    summary: 'Log out',
    description: 'Revokes the session and clears its cookie.',
    tags,
    security: [{ session: [] }],
    responses: { 200: { description: 'Logged out.', body: z.object({ success: z.literal(true) }) } },
  }),
  defineRoute({
    method: 'get',
    path: '/locations/:locationId/analyses',
    operationId: 'listAnalyses',
    summary: 'Analysis history',
    description: 'Analyses of a location, newest first.',
    tags,
    request: {
      params: z.object({ locationId: LocationId }),
      query: z.object({
        limit: z.coerce
          .number()
          .int()
          .min(1)
          .max(100)
          .optional()
          .meta({ description: 'At most this many (default 20).', example: 20 }),
      }),
    },
    responses: {
      200: { description: 'The history.', body: z.object({ success: z.literal(true), data: z.array(Analysis) }) },
    },
  }),
  defineRoute({
    method: 'get',
    path: '/locations/:locationId/workflows/:workflowId/analysis',
    operationId: 'getLatestAnalysis',
    summary: 'Latest analysis of a workflow',
    description: 'The newest analysis of one workflow, with its findings.',
    tags,
    request: { params: z.object({ locationId: LocationId, workflowId: z.string().min(1).max(128) }) },
    responses: {
      200: {
        description: 'The analysis.',
        body: z.object({ success: z.literal(true), data: Analysis.extend({ findings: z.unknown() }) }),
      },
    },
  }),
  defineRoute({
    method: 'get',
    path: '/locations/:locationId/subscription',
    operationId: 'getLocationSubscription',
    summary: 'Subscription of a location',
    description: 'The active subscription; the free tier when there is none.',
    tags,
    request: { params: z.object({ locationId: LocationId }) },
    responses: {
      200: {
        description: 'The subscription.',
        body: z.object({
          success: z.literal(true),
          data: z.object({ tier: z.enum(['free', 'pro', 'enterprise']), currentPeriodEnd: z.string().nullable() }),
        }),
      },
    },
  }),
] as const;

/** Options of {@link createApiDocs}. */
export interface ApiDocsOptions {
  /** ENABLE_API_DOCS: serve `/openapi.json` and `/api-docs`. */
  enabled: boolean;
  /** The session cookie's name (`__Host-session` in production). */
  sessionCookieName: string;
  /** Further documented routes mounted under /api (feature routers: `router.openapi.routes`). @default [] */
  routes?: readonly RouteDefinition[];
  version: string;
}

/**
 * The app's one OpenAPI document: `/api` canonical, `/v1/api` a versioned alias, cookie session and bearer API key.
 * Routes are served by their own routers; this router only serves the document and Swagger UI (its handlers, which
 * are never mounted, only satisfy createApiRouter's shape).
 */
export function createApiDocs(options: ApiDocsOptions): Pick<ApiRouter, 'docsRouter' | 'openapi'> {
  const served = () => {
    throw new Error('documentation-only route: served by its feature router');
  };
  const { docsRouter, openapi } = createApiRouter({
    routing: ROUTER_OPTIONS,
    info: {
      title: 'GHL workflow health API',
      version: options.version,
      description:
        'GoHighLevel workflow health analysis and Stripe billing. `/api` is the canonical base path; `/v1/api` is the same version 1, addressed explicitly.',
      contact: { name: 'API team', email: 'api@example.org' },
      license: { name: 'Proprietary', url: 'https://example.org/license' },
    },
    servers: [
      { url: '/api', description: 'Canonical path (implicitly version 1).' },
      { url: '/v1/api', description: 'Version 1, explicit alias of the same routes.' },
    ],
    securitySchemes: {
      session: cookieAuth(options.sessionCookieName, 'Server-side session behind a signed, HttpOnly cookie.'),
      apiKey: bearerAuth('API key for service-to-service calls: `Authorization: Bearer ak_...`.'),
    },
    security: [{ session: [] }, { apiKey: [] }],
    // Descriptions of the feature routers' tags too; a tag no route uses is left out of the document.
    tags: [
      { name: 'platform', description: 'The caller, history, analyses and subscription.' },
      { name: 'workflows', description: 'Workflows of the connected GHL location.' },
      { name: 'analysis', description: 'Workflow health analyses and their history.' },
      { name: 'billing', description: 'Stripe subscription: status, checkout and the customer portal.' },
    ].filter((tag) =>
      [...platformRoutes, ...(options.routes ?? [])].some((route) =>
        (route as RouteDefinition).tags?.includes(tag.name),
      ),
    ),
    routes: [...platformRoutes, ...(options.routes ?? [])].map((route) => implement(route as RouteDefinition, served)),
    errors: ERROR_CATALOG,
    docs: { enabled: options.enabled },
  });
  return { docsRouter, openapi };
}
