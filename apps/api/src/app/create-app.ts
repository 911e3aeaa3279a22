import compression from 'compression';
import cors from 'cors';
import type { Cache } from '@org/cache';
import express, { type Express, type RequestHandler, type Router } from 'express';
import type { RequestListener } from 'node:http';
import helmet from 'helmet';
import type { Logger } from 'pino';
import { createApiKeyStore } from '../auth/api-keys.js';
import { CredentialFailures } from '../auth/credential-failures.js';
import { authenticate, hasInternalToken, requireInternalToken } from '../auth/middleware.js';
import { createSessionStore, sessionCookie } from '../auth/sessions.js';
import type { Billing } from '../features/billing/billing.js';
import type { Database } from '../db/database.js';
import type { GhlRouters } from '../features/workflows/module.js';
import { createApiV1Router } from './api-v1.js';
import { healthRoutes, type BackendInfo } from '../routes/health.js';
import { createApiDocs } from '../routes/api-docs.js';
import type { RouteDefinition } from '@org/openapi';
import { stripeWebhookRouter } from '../features/billing/webhook-routes.js';
import { createSubscriptionRouter } from '../features/billing/routes.js';
import { COMPRESSION } from '../http/compression.js';
import { errorHandler, notFoundHandler } from '../http/error-handler.js';
import type { Lifecycle } from '../http/lifecycle.js';
import { requestLogging } from '../http/request-context.js';
import { metricsRoute, type AppMetrics } from '../observability/metrics.js';
import { ROUTER_OPTIONS } from '../http/routing.js';
import { createWebhookRateLimit } from '../http/webhook-rate-limit.js';

/** The JSON body limit; larger bodies get 413 PAYLOAD_TOO_LARGE. */
export const JSON_BODY_LIMIT = '100kb';

/** Everything the app needs from the outside world. createApp does no I/O and reads no environment. */
export interface AppDeps {
  config: {
    isProduction: boolean;
    frontendUrl: string;
    /** Number of reverse proxies in front of the app (never `true`: that lets clients forge their IP). */
    trustProxyHops: number;
    sessionSecret: string;
    internalToken: string;
    /** Serve /metrics without the internal token in production (METRICS_PUBLIC). @default false */
    metricsPublic?: boolean;
    /** ENABLE_API_DOCS: `/openapi.json` and `/api-docs` (off by default in production). @default false */
    enableApiDocs?: boolean;
  };
  logger: Logger;
  db: Database;
  lifecycle: Lifecycle;
  /** Reported by /health and /health/detailed: app, node, express, database... */
  versions: Record<string, string> & { app: string };
  backends: BackendInfo;
  /** Called with unexpected (500) errors, e.g. Sentry's captureException. */
  reportError?: (error: unknown, requestId: string) => void;
  /** Extra routes on the v1 API router, e.g. a test's throwing or slow handlers. Production passes nothing. */
  extraApiRoutes?: (router: Router, deps: { db: Database }) => void;
  /** Process start time (ms since epoch) for /health/detailed. @default Date.now() at createApp */
  startedAt?: number;
  /** @org/metrics handle (ENABLE_METRICS): `/metrics` here, HTTP RED metrics through `requestListener`. @default none */
  metrics?: AppMetrics;
  /** @org/cache (Redis from REDIS_URL, else memory), created and closed by the composition (compose.ts). @default none */
  cache?: Cache;
  /** @org/tiered-rate-limit middleware (createApiRateLimit), created and closed by the composition (compose.ts). @default none */
  rateLimit?: RequestHandler;
  /** Feature routers' documented routes (`apiRouter.openapi.routes`), added to the app's one OpenAPI document. @default [] */
  documentedRoutes?: readonly RouteDefinition[];
  /** Stripe billing (src/billing): /webhooks/stripe and /subscription routes. Absent: those routes are not mounted. */
  billing?: Billing;
  /** GHL connection and workflow analysis, built by `createWorkflowModule` (src/features/workflows/module.ts). @default none */
  ghl?: GhlRouters;
}

/**
 * Builds the Express app. The middleware order below is the single place where the request pipeline is defined;
 * read it top to bottom. The numbered slots marked "@org/..." are where the libraries get wired.
 */
export function createApp(deps: AppDeps): Express {
  const { config, logger, db, lifecycle } = deps;
  const app = express();
  app.disable('x-powered-by');
  // Paths match exactly as written (`/API/analyze` and `/api/analyze/` are 404), in every router (src/http/routing.ts).
  app.set('case sensitive routing', ROUTER_OPTIONS.caseSensitive);
  app.set('strict routing', ROUTER_OPTIONS.strict);
  // A hop count, not `true`: with `true` any client can pick its own req.ip via X-Forwarded-For.
  app.set('trust proxy', config.trustProxyHops);
  // Express would otherwise print stacks in HTML for errors that escape the error handler (it cannot: see below).
  app.set('env', config.isProduction ? 'production' : 'development');

  const cookie = sessionCookie(config.isProduction);
  // Verified credentials are remembered in the cache for 30 s (src/auth/principal-cache.ts); logout forgets them.
  const sessions = createSessionStore(db, config.sessionSecret, { cache: deps.cache });
  const apiKeys = createApiKeyStore(db, config.sessionSecret, { cache: deps.cache });
  const internalOnly = requireInternalToken(config.internalToken);

  // 1. Request id and access log (first, so that every later failure carries the id).
  app.use(requestLogging(logger));
  // 2. While draining, tell keep-alive clients to reconnect elsewhere, so sockets close as their last response ends.
  app.use((_req, res, next) => {
    if (lifecycle.state === 'draining') res.setHeader('Connection', 'close');
    next();
  });
  // 3. Security headers (HSTS, nosniff, CSP, frame options, referrer policy, CORP) and CORS for the frontend only.
  app.use(helmet());
  app.use(cors({ origin: config.frontendUrl, credentials: true, exposedHeaders: ['X-Request-Id', 'Retry-After'] }));
  // 4. Compression (COMPRESSION: gzip level 6 above 1 KiB, `x-no-compression` opts out).
  app.use(
    compression({
      level: COMPRESSION.level,
      threshold: COMPRESSION.threshold,
      filter: (req, res) => (req.headers['x-no-compression'] ? false : compression.filter(req, res)),
    }),
  );
  // 5. @org/metrics: the HTTP RED metrics are recorded around the whole app by `requestListener` (the package's
  //    `wrap`, no router layer). `/metrics` negotiates OpenMetrics / Prometheus text; open outside production, the
  //    internal token as a Prometheus bearer token in production unless METRICS_PUBLIC.
  if (deps.metrics) {
    app.get(
      '/metrics',
      metricsRoute(deps.metrics, {
        isProduction: config.isProduction,
        metricsPublic: config.metricsPublic ?? false,
        internalToken: config.internalToken,
        logger,
      }),
    );
  }

  // 6. Operational endpoints: cheap, unauthenticated, not rate limited. On the token-guarded ones (/health/detailed,
  //    /internal/*) a request without the right token spends the address's budget like any anonymous client, so
  //    token guessing is throttled, while monitoring with the token is never limited.
  const rateLimit = deps.rateLimit;
  if (rateLimit)
    app.use(['/health/detailed', '/internal'], (req, res, next) =>
      hasInternalToken(req, config.internalToken) ? next() : rateLimit(req, res, next),
    );
  app.use(
    healthRoutes({
      db,
      lifecycle,
      versions: deps.versions,
      backends: deps.backends,
      guard: internalOnly,
      startedAt: deps.startedAt ?? Date.now(),
      cache: deps.cache,
    }),
  );
  app.use('/internal', internalOnly);
  const cache = deps.cache;
  if (cache)
    app.get('/internal/cache-stats', (_req, res) => void res.set('Cache-Control', 'no-store').json(cache.stats()));
  //    @org/openapi: the app's one document (`/api` canonical, `/v1/api` alias) and Swagger UI, when ENABLE_API_DOCS.
  const subscription = deps.billing
    ? createSubscriptionRouter(deps.billing, { sessionCookieName: cookie.name, isProduction: config.isProduction })
    : undefined;
  const documented = [...(deps.documentedRoutes ?? []), ...(subscription?.openapi.routes ?? [])];
  const docs = createApiDocs({
    enabled: config.enableApiDocs ?? false,
    sessionCookieName: cookie.name,
    routes: documented,
    version: deps.versions.app,
  });
  app.use(docs.docsRouter);

  // 7. Webhooks, authenticated by their signature over the raw body (GHL: Ed25519, Stripe: HMAC), above the API's
  //    limiter: providers deliver in bursts from few addresses. Their own generous per-address cap bounds floods.
  if (deps.ghl || deps.billing) app.use('/webhooks', createWebhookRateLimit());
  if (deps.ghl) app.use(deps.ghl.webhooks);
  if (deps.billing) app.use(stripeWebhookRouter(deps.billing));

  // 8. @org/tiered-rate-limit: before body parsing and auth (cheap rejection), keyed by location when a valid session
  //    or API key is present (resolved once; authentication reuses it), else by req.ip (hence the hop count).
  if (deps.rateLimit) app.use(deps.rateLimit);

  //    Body parsing. Raw-body routes (the webhooks verify the exact bytes) are mounted above this line.
  app.use(express.json({ limit: JSON_BODY_LIMIT }));

  // 9. Authentication: sets req.principal from a Bearer API key or the session cookie; routes require it.
  app.use(authenticate({ sessions, apiKeys, cookie, failures: new CredentialFailures() }));
  //    GHL OAuth install flow (and the development-only demo login), outside the versioned API.
  if (deps.ghl) app.use(deps.ghl.auth);

  // 10. The API, implicitly v1 at /api and explicitly at /v1/api. A v2 router gets its own line: app.use('/v2/api', v2).
  const v1 = createApiV1Router({ db, sessions, cookie });
  if (deps.ghl) v1.use(deps.ghl.api);
  deps.extraApiRoutes?.(v1, { db });
  // One mount per path (not an array): each mount layer then carries its own path, which the HTTP metrics read as is.
  for (const mount of ['/api', '/v1/api']) {
    if (subscription) app.use(mount, subscription.router);
    app.use(mount, v1);
  }

  // 11. Unknown routes and every error: one JSON shape.
  app.use(notFoundHandler);
  app.use(errorHandler({ logger, report: deps.reportError }));
  return app;
}

/**
 * The server's request listener: the app, wrapped by @org/metrics' HTTP RED recorder when metrics are on (the
 * package's low-overhead install: same labels as `app.use(httpMetrics(...))`, no extra router layer).
 */
export function requestListener(app: Express, deps: Pick<AppDeps, 'metrics'>): RequestListener {
  return deps.metrics ? deps.metrics.http.wrap(app) : app;
}
