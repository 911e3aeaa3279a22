import {
  createDependencyHealth,
  createMetrics,
  instrumentPool,
  metricsHandler,
  type Metrics,
  type Scrape,
  type ScrapeSource,
} from '@org/metrics';
import type { RequestHandler } from 'express';
import type { Logger } from 'pino';
import { httpMetrics, type HttpMetricsMiddleware } from '@org/metrics/express';
import type { Registry } from 'prom-client';
import type pg from 'pg';
import { billingMetrics } from '../features/billing/metrics.js';
import { workflowAnalysisMetrics } from '../features/workflows/metrics.js';
import type { BillingHooks } from '../features/billing/index.js';
import type { Database } from '../db/database.js';

/** Everything observability hands to createApp and the feature modules. */
export interface AppMetrics {
  metrics: Metrics;
  /** HTTP RED metrics; the composition (compose.ts) installs it with `wrap(app)` (no extra router layer). */
  http: HttpMetricsMiddleware;
  /** Billing's metric hooks (subscription_events_total), for createBilling; undefined without `db`. */
  billingHooks: Pick<BillingHooks, 'onSubscriptionEvent'> | undefined;
  /** Undo the pool instrumentation and stop the runtime collectors (the registry itself belongs to the libraries). */
  close(): void;
}

/** Options of {@link createAppMetrics}. */
export interface AppMetricsOptions {
  /** The one prom-client Registry of the process (the cache and the rate limiter write to it too). */
  registry: Registry;
  /** The pool whose queries become `database_*` metrics. @default none */
  pool?: pg.Pool;
  /** The database `active_users{tier}` is counted from at scrape time (billing's query). @default none */
  db?: Pick<Database, 'read'>;
  /** `dependency_up{dependency}` checks, run at scrape time. @default {} */
  dependencies?: Record<string, () => Promise<unknown>>;
}

/**
 * Creates the app's @org/metrics handle on the injected registry: runtime metrics, HTTP RED metrics (route templates,
 * never raw paths), `database_*` through instrumentPool, `dependency_up` and the business metrics (workflow analyses,
 * and with `db` the billing ones).
 */
export function createAppMetrics(options: AppMetricsOptions): AppMetrics {
  const metrics = createMetrics({ registry: options.registry, runtime: true });
  const http = httpMetrics(metrics);
  const undoPool = options.pool ? instrumentPool(metrics, options.pool, { name: 'main' }) : () => {};
  createDependencyHealth(metrics, { checks: options.dependencies ?? {}, timeoutMs: 500 });
  // The business metrics exist from the start (the dashboard reads them before the first analysis or Stripe event):
  // the feature modules' own definitions, which they get back (get-or-create) when they ask again.
  const billingHooks = options.db ? billingMetrics(metrics, options.db) : undefined;
  workflowAnalysisMetrics(metrics);
  return {
    metrics,
    http,
    billingHooks,
    close() {
      undoPool();
      metrics.close();
    },
  };
}

/**
 * `GET /metrics` of the API and of a worker: OpenMetrics / Prometheus text, open outside production, the internal
 * token as a Prometheus bearer token in production unless METRICS_PUBLIC.
 */
export function metricsRoute(
  metrics: AppMetrics,
  options: { isProduction: boolean; metricsPublic: boolean; internalToken: string; logger: Logger },
): RequestHandler {
  const bearerToken = options.isProduction && !options.metricsPublic ? options.internalToken : undefined;
  // In production a scrape (a database ping and a GROUP BY over every location) runs at most once per few seconds,
  // whoever asks how often: concurrent and repeated requests share it.
  const source = options.isProduction ? coalescedScrapes(metrics.metrics, SCRAPE_REUSE_MS) : metrics.metrics;
  return metricsHandler(source, {
    bearerToken,
    onError: (error) => options.logger.error({ err: error }, 'metrics scrape failed'),
  });
}

/** How long a production scrape is reused. */
export const SCRAPE_REUSE_MS = 5_000;

/** One scrape per format at a time and per `reuseMs` (single-flight); a failed scrape is not reused. */
export function coalescedScrapes(source: ScrapeSource, reuseMs: number): ScrapeSource {
  const last = new Map<string, { at: number; value: Promise<Scrape> }>();
  return {
    scrape(accept) {
      const format = /openmetrics/i.test(accept ?? '') ? 'openmetrics' : 'text';
      const now = Date.now();
      const hit = last.get(format);
      if (hit && now - hit.at < reuseMs) return hit.value;
      const value = source.scrape(accept);
      last.set(format, { at: now, value });
      value.catch(() => {
        if (last.get(format)?.value === value) last.delete(format);
      });
      return value;
    },
  };
}
