export { MetricsError, MetricsOptionsError, MetricConflictError, type MetricsErrorCode } from './errors.js';
export {
  createMetrics,
  DEFAULT_BUCKETS,
  type Metrics,
  type MetricsOptions,
  type Scrape,
  type Aggregator,
  type BaseDefinition,
  type CounterDefinition,
  type GaugeDefinition,
  type HistogramDefinition,
} from './metrics.js';
export type { RuntimeMetricsOptions } from './runtime.js';
export {
  negotiateFormat,
  PROMETHEUS_CONTENT_TYPE,
  OPENMETRICS_CONTENT_TYPE,
  type ExpositionFormat,
  type MetricFamily,
  type Sample,
} from './exposition.js';
export { metricsHandler, type MetricsHandlerOptions, type ScrapeSource } from './handler.js';
export { serveClusterMetrics, createClusterAggregator, aggregateFamilies, type ClusterAggregator, type ClusterAggregatorOptions } from './cluster.js';
export { instrumentPool, sqlOperation, type InstrumentPoolOptions, type PoolLike, type ClientLike } from './database.js';
export { createCacheMetrics, type CacheMetrics, type CacheMetricsOptions } from './cache.js';
export { createExternalApiMetrics, classifyError, type ExternalApiMetrics, type ExternalApiMetricsOptions, type ExternalApiErrorType } from './external-api.js';
export { sanitizePath, BoundedLabel } from './labels.js';
export { createDependencyHealth, type DependencyHealth, type DependencyHealthOptions } from './dependencies.js';
