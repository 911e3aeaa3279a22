export { MetricsError, MetricsOptionsError, MetricConflictError } from './errors.js';
export { createMetrics } from './metrics.js';
export { DEFAULT_BUCKETS } from './definitions.js';
export { negotiateFormat, PROMETHEUS_CONTENT_TYPE, OPENMETRICS_CONTENT_TYPE } from './exposition.js';
export { metricsHandler } from './handler.js';
export { serveClusterMetrics, createClusterAggregator, aggregateFamilies } from './cluster.js';
export { instrumentPool, sqlOperation } from './database.js';
export { createCacheMetrics } from './cache.js';
export { createExternalApiMetrics, classifyError } from './external-api.js';
export { sanitizePath, BoundedLabel } from './labels.js';
export { createDependencyHealth } from './dependencies.js';
export type {
  Aggregator,
  BaseDefinition,
  CacheMetrics,
  CacheMetricsOptions,
  ClientLike,
  ClusterAggregator,
  ClusterAggregatorOptions,
  CounterDefinition,
  DependencyHealth,
  DependencyHealthOptions,
  ExpositionFormat,
  ExternalApiErrorType,
  ExternalApiMetrics,
  ExternalApiMetricsOptions,
  GaugeDefinition,
  HistogramDefinition,
  InstrumentPoolOptions,
  MetricFamily,
  Metrics,
  MetricsErrorCode,
  MetricsHandlerOptions,
  MetricsOptions,
  PoolLike,
  RuntimeMetricsOptions,
  Sample,
  Scrape,
  ScrapeSource,
} from './types.js';
