import type { IncomingMessage, ServerResponse } from 'node:http';
import express from 'express';
import promBundle from 'express-prom-bundle';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { createMetrics, metricsHandler } from '../src/index.js';
import { httpMetrics } from '../src/express/index.js';

/** The four servers the benchmark compares; all serve GET /users/:id and expose /metrics. */
export type Variant = 'bare' | 'noop-layer' | 'org' | 'org-wrap' | 'prom-bundle' | 'hand-written';
export const VARIANTS: readonly Variant[] = ['bare', 'noop-layer', 'org', 'org-wrap', 'prom-bundle', 'hand-written'];

export interface BenchApp {
  app: express.Express;
  /** What to give http.createServer (the app itself, or the app wrapped by the metrics). */
  listener: (req: IncomingMessage, res: ServerResponse) => void;
  registry: Registry | undefined;
  close(): void;
}

export function buildApp(variant: Variant): BenchApp {
  const app = express();
  app.disable('x-powered-by');
  let registry: Registry | undefined;
  let close = () => undefined as void;
  let listener: BenchApp['listener'] = app;
  if (variant === 'noop-layer') {
    // The floor for any Express middleware: one more router layer that does nothing.
    app.use((_req, _res, next) => next());
  } else if (variant === 'org-wrap') {
    const metrics = createMetrics({ runtime: false });
    registry = metrics.registry;
    listener = httpMetrics(metrics).wrap(app);
    app.get('/metrics', metricsHandler(metrics));
    close = () => metrics.close();
  } else if (variant === 'org') {
    // Runtime metrics off so only the middleware's cost is compared (express-prom-bundle and the hand-written variant add none either).
    const metrics = createMetrics({ runtime: false });
    registry = metrics.registry;
    app.use(httpMetrics(metrics));
    app.get('/metrics', metricsHandler(metrics));
    close = () => metrics.close();
  } else if (variant === 'prom-bundle') {
    registry = new Registry();
    app.use(promBundle({ includeMethod: true, includePath: true, promRegistry: registry, autoregister: true }));
  } else if (variant === 'hand-written') {
    // A typical minimal middleware: req.baseUrl + req.route.path, no cap, no nested-template fix.
    registry = new Registry();
    const labelNames = ['method', 'route', 'status_code'];
    const h = new Histogram({ name: 'http_request_duration_seconds', help: 'd', labelNames, registers: [registry] });
    const c = new Counter({ name: 'http_requests_total', help: 't', labelNames, registers: [registry] });
    const g = new Gauge({ name: 'http_requests_in_flight', help: 'f', registers: [registry] });
    const r = registry;
    app.use((req, res, next) => {
      const start = performance.now();
      g.inc();
      res.once('close', () => {
        g.dec();
        const labels = {
          method: req.method,
          route: req.route ? req.baseUrl + String(req.route.path) : '__unmatched__',
          status_code: String(res.statusCode),
        };
        h.observe(labels, (performance.now() - start) / 1000);
        c.inc(labels);
      });
      next();
    });
    app.get('/metrics', async (_req, res) => {
      res.type(r.contentType).send(await r.metrics());
    });
  }
  app.get('/users/:id', (req, res) => {
    res.json({ id: req.params.id, name: 'Jane' });
  });
  app.use((_req, res) => {
    res.status(404).json({ error: 'not found' });
  });
  return { app, listener, registry, close };
}
