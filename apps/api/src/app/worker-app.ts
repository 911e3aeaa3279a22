import express, { type Express } from 'express';
import type { Logger } from 'pino';
import { metricsRoute, type AppMetrics } from '../observability/metrics.js';
import { errorHandler, notFoundHandler } from '../http/error-handler.js';
import type { Lifecycle } from '../http/lifecycle.js';

/** What the `worker` role's small HTTP server needs; like createApp, building it does no I/O. */
export interface WorkerAppDeps {
  lifecycle: Lifecycle;
  logger: Logger;
  /** `/metrics` (the queue's attempt counters and durations are only counted where jobs run). @default none */
  metrics?: AppMetrics;
  /** The internal token: `/metrics` needs it as a bearer in production unless `metricsPublic`. */
  internalToken: string;
  isProduction: boolean;
  metricsPublic: boolean;
}

/**
 * The worker's probe and scrape endpoints: `/live` (the process runs), `/ready` (migrated and taking jobs; 503 while
 * starting or draining) and `/metrics`. Anything else gets the API's own JSON errors.
 */
export function createWorkerApp(deps: WorkerAppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.get('/live', (_req, res) => void res.json({ status: 'alive', role: 'worker' }));
  app.get('/ready', (_req, res) => {
    const ready = deps.lifecycle.state === 'ready';
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : deps.lifecycle.state, role: 'worker' });
  });
  if (deps.metrics) app.get('/metrics', metricsRoute(deps.metrics, deps));
  app.use(notFoundHandler);
  app.use(errorHandler({ logger: deps.logger }));
  return app;
}
