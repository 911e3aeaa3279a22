import { createDependencyHealth, createMetrics, instrumentPool, metricsHandler, type Metrics } from '@org/metrics';
import type { RequestHandler } from 'express';
import type { Logger } from 'pino';
import { httpMetrics, type HttpMetricsMiddleware } from '@org/metrics/express';
import type { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type pg from 'pg';
import { billingMetrics } from '../billing/metrics.js';
import type { BillingHooks } from '../billing/index.js';
import type { Database } from '../db/database.js';

/**
 * The reference business metrics, defined once with @org/metrics' get-or-create primitives. The definitions (help,
 * labels, buckets) are the same as the feature modules' (src/workflows, src/billing), so whichever module asks first
 * creates the metric and the others get the same one back; a different definition would throw MetricConflictError at
 * start-up. Labels are closed sets (tier, status, rule id, severity, Stripe event type): never ids.
 */
export interface BusinessMetrics {
  workflowAnalysis: Counter<'tier' | 'status'>;
  workflowAnalysisDuration: Histogram<'tier'>;
  workflowHealthScore: Histogram<string>;
  workflowIssuesFound: Counter<'type' | 'severity'>;
  activeUsers: Gauge<'tier'>;
  subscriptionEvents: Counter<'type' | 'outcome'>;
}

export function defineBusinessMetrics(metrics: Metrics): BusinessMetrics {
  return {
    workflowAnalysis: metrics.counter({ name: 'workflow_analysis_total', help: 'Workflow analyses by tier and outcome (ok, cached, invalid, error).', labelNames: ['tier', 'status'] }),
    workflowAnalysisDuration: metrics.histogram({
      name: 'workflow_analysis_duration_seconds',
      help: 'Duration of workflow analyses (definition loading, analysis and storage), in seconds.',
      labelNames: ['tier'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    }),
    workflowHealthScore: metrics.histogram({ name: 'workflow_health_score', help: 'Health scores (0-100) of fresh analyses.', buckets: [10, 20, 30, 40, 50, 60, 70, 80, 90, 100] }),
    workflowIssuesFound: metrics.counter({ name: 'workflow_issues_found_total', help: 'Findings of fresh analyses by rule id and severity.', labelNames: ['type', 'severity'] }),
    activeUsers: metrics.gauge({ name: 'active_users', help: 'Locations (tenants) per effective subscription tier.', labelNames: ['tier'], aggregator: 'max' }),
    subscriptionEvents: metrics.counter({
      name: 'subscription_events_total',
      help: 'Stripe webhook events handled, by event type and outcome (applied, duplicate, stale, ignored, error).',
      labelNames: ['type', 'outcome'],
    }),
  };
}

/** Everything observability hands to createApp and the feature modules. */
export interface AppMetrics {
  metrics: Metrics;
  /** HTTP RED metrics; main.ts installs it with `wrap(app)` (no extra router layer). */
  http: HttpMetricsMiddleware;
  business: BusinessMetrics;
  /** Billing's metric hooks (subscription_events_total), for createBilling; undefined without `db`. */
  billingHooks: Pick<BillingHooks, 'onSubscriptionEvent'> | undefined;
  /** Undo the pool instrumentation and stop the runtime collectors (the registry itself belongs to main.ts). */
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
 * never raw paths), `database_*` through instrumentPool, `dependency_up` and the business metrics.
 */
export function createAppMetrics(options: AppMetricsOptions): AppMetrics {
  const metrics = createMetrics({ registry: options.registry, runtime: true });
  const http = httpMetrics(metrics);
  const undoPool = options.pool ? instrumentPool(metrics, options.pool, { name: 'main' }) : () => {};
  createDependencyHealth(metrics, { checks: options.dependencies ?? {}, timeoutMs: 500 });
  // Billing's definitions first: its active_users carries the scrape-time count; the same definitions below then
  // return these metrics (get-or-create) instead of creating count-less twins.
  const billingHooks = options.db ? billingMetrics(metrics, options.db) : undefined;
  const business = defineBusinessMetrics(metrics);
  return {
    metrics,
    http,
    business,
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
export function metricsRoute(metrics: AppMetrics, options: { isProduction: boolean; metricsPublic: boolean; internalToken: string; logger: Logger }): RequestHandler {
  const bearerToken = options.isProduction && !options.metricsPublic ? options.internalToken : undefined;
  return metricsHandler(metrics.metrics, { bearerToken, onError: (error) => options.logger.error({ err: error }, 'metrics scrape failed') });
}
