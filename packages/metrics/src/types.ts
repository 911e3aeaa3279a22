// The public types of @org/metrics (re-exported by src/index.ts). Type-only: no runtime code, no import of another
// module of the package, so every module can import from here without forming a cycle.
import type { Counter, Gauge, Histogram, Registry } from 'prom-client';

/** Stable codes of every error @org/metrics throws. */
export type MetricsErrorCode =
  | 'METRICS_ERROR'
  | 'METRICS_INVALID_OPTIONS'
  | 'METRICS_CONFLICT'
  | 'METRICS_INVALID_DEFINITION'
  | 'METRICS_CLUSTER';

/** How cluster aggregation combines a gauge's per-worker values. */
export type Aggregator = 'sum' | 'first' | 'min' | 'max' | 'average' | 'omit';

/** Fields every metric definition has. */
export interface BaseDefinition<L extends string> {
  /** Metric name, with its unit suffix (`_seconds`, `_bytes`) and `_total` for counters. */
  name: string;
  /** One-line description shown in `# HELP`. */
  help: string;
  /** Label names; keep values bounded (no ids, emails or raw URLs). @default [] */
  labelNames?: readonly L[];
}

/** A counter: only goes up. */
export interface CounterDefinition<L extends string> extends BaseDefinition<L> {
  /** Called before each scrape, for counters kept outside prom-client and synced on scrape. */
  collect?: (this: Counter<L>) => void | Promise<void>;
}

/** A gauge: a value that goes up and down. */
export interface GaugeDefinition<L extends string> extends BaseDefinition<L> {
  /** How the cluster primary combines workers' values. @default 'sum' */
  aggregator?: Aggregator;
  /** Called before each scrape to refresh the value. */
  collect?: (this: Gauge<L>) => void | Promise<void>;
}

/** A histogram: a distribution over fixed buckets. */
export interface HistogramDefinition<L extends string> extends BaseDefinition<L> {
  /** Upper bounds of the buckets, ascending. @default [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] */
  buckets?: readonly number[];
  /** Keep one exemplar per bucket (OpenMetrics only); `observe` then takes `{ labels, value, exemplarLabels }`. @default false */
  exemplars?: boolean;
}

/** Options of {@link createMetrics}. */
export interface MetricsOptions {
  /** The prom-client registry every metric goes to; the global default registry is never used. @default a new Registry */
  registry?: Registry;
  /** Further registries (for example the ones given to @org/cache or @org/tiered-rate-limit) exposed on the same /metrics. @default [] */
  include?: readonly Registry[];
  /** Labels added to every exposed sample that does not set them (for example `{ service: 'api' }`). @default {} */
  defaultLabels?: Record<string, string>;
  /** Collect the Node.js runtime metrics (lint-clean under `promtool check metrics`); `false` to skip. @default true */
  runtime?: boolean | RuntimeMetricsOptions;
  /** `'prom-client'` adds prom-client's default runtime metric names (gauges named `*_total` included, which promtool's lint flags) so community Node.js dashboards find every series. @default 'promlint' */
  runtimeNames?: 'promlint' | 'prom-client';
}

/** What one scrape produced. */
export interface Scrape {
  contentType: string;
  body: string;
  format: ExpositionFormat;
}

/** The handle {@link createMetrics} returns. */
export interface Metrics {
  /** The registry every metric of this handle lives in. */
  readonly registry: Registry;
  /** Labels added to every exposed sample (from `options.defaultLabels`). */
  readonly defaultLabels: Readonly<Record<string, string>>;
  /** Registers (or returns the identical, already registered) counter. Throws {@link MetricConflictError} on a different definition. */
  counter<L extends string = string>(definition: CounterDefinition<L>): Counter<L>;
  /** Registers (or returns the identical, already registered) gauge. */
  gauge<L extends string = string>(definition: GaugeDefinition<L>): Gauge<L>;
  /** Registers (or returns the identical, already registered) histogram. */
  histogram<L extends string = string>(definition: HistogramDefinition<L>): Histogram<L>;
  /** Renders every registry (own plus `include`) in the format the Accept header asks for. */
  scrape(accept?: string | null, extraFamilies?: readonly MetricFamily[]): Promise<Scrape>;
  /** Every metric of every registry as JSON families (what a cluster worker sends to the primary). */
  collect(): Promise<MetricFamily[]>;
  /** Stops the runtime collectors (timers, GC observer). Never closes an injected registry. */
  close(): void;
}

/** Options of the runtime collector. */
export interface RuntimeMetricsOptions {
  /** Sampling resolution of the event-loop delay monitor, in milliseconds. @default 10 */
  eventLoopResolutionMs?: number;
  /** Buckets of `nodejs_gc_duration_seconds`. @default [0.001, 0.01, 0.1, 1, 2, 5] */
  gcBuckets?: readonly number[];
}

/** The two exposition formats Prometheus scrapes. */
export type ExpositionFormat = 'prometheus' | 'openmetrics';

/** One sample as prom-client's `get()` returns it (labels already flattened). */
export interface Sample {
  value: number;
  labels: Record<string, string | number>;
  metricName?: string;
  exemplar?: { labelSet: Record<string, string | number>; value: number; timestamp?: number } | null;
}

/** One metric family, in prom-client's JSON shape; what cluster workers send to the primary. */
export interface MetricFamily {
  name: string;
  help: string;
  type: string;
  aggregator?: string;
  values: Sample[];
}

/** Options of {@link metricsHandler}. */
export interface MetricsHandlerOptions {
  /** When set, requests must send `Authorization: Bearer <token>`; others get 401 and no metrics. @default undefined (no protection) */
  bearerToken?: string;
  /** Receives the full error when collecting fails (the default logs only its name and code, as messages can carry secrets). @default undefined */
  onError?: (error: unknown) => void;
}

/** Anything that can render a scrape: a {@link Metrics} handle or a cluster aggregator. */
export interface ScrapeSource {
  scrape(accept?: string | null): Promise<Scrape>;
}

/** Options of {@link createClusterAggregator}. */
export interface ClusterAggregatorOptions {
  /** How long the primary waits for each worker before scraping without it. @default 1000 */
  timeoutMs?: number;
}

/** What {@link createClusterAggregator} returns; pass it to `metricsHandler` on the primary. */
export interface ClusterAggregator {
  /** One exposition of all workers plus the primary's own metrics, summed; never rejects because of a worker. */
  scrape(accept?: string | null): Promise<Scrape>;
  /** The aggregated families and how many workers answered. */
  collect(): Promise<{ families: MetricFamily[]; responded: number; failed: number }>;
  /** Stops listening for worker exits. */
  close(): void;
}

/** The parts of a `pg.Pool` the instrumentation touches (structural, so pg stays a dev dependency). */
export interface PoolLike {
  totalCount: number;
  idleCount: number;
  waitingCount: number;
  on(event: 'connect', listener: (client: ClientLike) => void): unknown;
  removeListener(event: 'connect', listener: (client: ClientLike) => void): unknown;
}

/** The part of a `pg.Client` that is wrapped. */
export interface ClientLike {
  query: (...args: never[]) => unknown;
}

/** Options of {@link instrumentPool}. */
export interface InstrumentPoolOptions {
  /** Value of the `pool` label, to tell several pools apart. @default 'default' */
  name?: string;
  /** Buckets of `database_query_duration_seconds`. @default [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5] */
  buckets?: readonly number[];
}

/** Options of {@link createCacheMetrics}. */
export interface CacheMetricsOptions {
  /** Value of the `cache` label, like @org/cache's `name` option, to tell several caches apart. @default 'default' */
  name?: string;
  /** Buckets of `cache_operation_duration_seconds`. @default [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1] */
  buckets?: readonly number[];
}

/** What {@link createCacheMetrics} returns; `tier` is where the answer came from (`memory`, `redis`, `l1`...), `operation` e.g. `get`, `set`. */
export interface CacheMetrics {
  hit(tier: string): void;
  miss(tier: string): void;
  /** Observes one operation's duration, in seconds. */
  observe(operation: string, tier: string, durationSeconds: number): void;
}

/** Options of {@link createExternalApiMetrics}. */
export interface ExternalApiMetricsOptions {
  /** Prefix of the metric names (`ghl` gives `ghl_api_requests_total`); lower case letters, digits and `_`. */
  name: string;
  /** Buckets of `<name>_api_duration_seconds`. @default [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30] */
  buckets?: readonly number[];
  /** Most distinct endpoint labels; later ones count as `__overflow__`. @default 100 */
  maxEndpoints?: number;
}

/** Error classes on `<name>_api_errors_total`; a closed set so the label stays bounded. */
export type ExternalApiErrorType = 'timeout' | 'network' | 'rate_limited' | 'client_error' | 'server_error' | 'other';

/** What {@link createExternalApiMetrics} returns. */
export interface ExternalApiMetrics {
  /**
   * Records one call. `endpoint` may be a template or a concrete URL: query strings, hosts and id-like
   * segments are stripped. `durationSeconds` in seconds; `statusCode` 0 or undefined when no response came.
   */
  record(endpoint: string, durationSeconds: number, statusCode?: number, error?: unknown): void;
  /** Times `call` and records it; the call's own result or error passes through unchanged. */
  time<T>(endpoint: string, call: () => Promise<T>, statusOf?: (result: T) => number): Promise<T>;
}

/** Options of {@link createDependencyHealth}. */
export interface DependencyHealthOptions {
  /** Checks run on every scrape, by dependency name (`postgres`, `redis`); resolve = up, reject or timeout = down. @default {} */
  checks?: Record<string, () => Promise<unknown>>;
  /** Longest a check may take before it counts as down, in milliseconds. @default 500 */
  timeoutMs?: number;
}

/** What {@link createDependencyHealth} returns. */
export interface DependencyHealth {
  /** Sets a dependency's state by hand (for clients that report connect/disconnect events). */
  set(dependency: string, up: boolean): void;
}
