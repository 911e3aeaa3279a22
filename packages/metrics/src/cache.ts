import type { Counter, Histogram } from 'prom-client';
import { BoundedLabel } from './labels.js';
import type { Metrics } from './metrics.js';

const WORD = /^[a-z0-9_]{1,32}$/;

/** Options of {@link createCacheMetrics}. */
export interface CacheMetricsOptions {
  /** Buckets of `cache_operation_duration_seconds`. @default [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1] */
  buckets?: readonly number[];
}

/** What {@link createCacheMetrics} returns; `tier` is the cache level (`l1`, `l2`), `operation` e.g. `get`, `set`. */
export interface CacheMetrics {
  hit(operation: string, tier: string): void;
  miss(operation: string, tier: string): void;
  /** Observes one operation's duration, in seconds. */
  observe(operation: string, tier: string, durationSeconds: number): void;
}

/**
 * `cache_hits_total`, `cache_misses_total` and `cache_operation_duration_seconds` with the labels
 * `operation` and `tier`, the names @org/cache emits. When the registry already holds them (because
 * @org/cache was given the same registry), they are reused whatever their help text says.
 */
export function createCacheMetrics(metrics: Metrics, options: CacheMetricsOptions = {}): CacheMetrics {
  const existing = <M>(name: string): M | undefined => {
    const m = metrics.registry.getSingleMetric(name) as unknown as { labelNames?: string[] } | undefined;
    return m && m.labelNames?.includes('operation') && m.labelNames.includes('tier') ? (m as M) : undefined;
  };
  const labelNames = ['operation', 'tier'] as const;
  const hits = existing<Counter<'operation' | 'tier'>>('cache_hits_total') ?? metrics.counter({ name: 'cache_hits_total', help: 'Cache lookups answered from the cache, by operation and tier.', labelNames });
  const misses = existing<Counter<'operation' | 'tier'>>('cache_misses_total') ?? metrics.counter({ name: 'cache_misses_total', help: 'Cache lookups not found in the cache, by operation and tier.', labelNames });
  const duration =
    existing<Histogram<'operation' | 'tier'>>('cache_operation_duration_seconds') ??
    metrics.histogram({ name: 'cache_operation_duration_seconds', help: 'Duration of cache operations, by operation and tier, in seconds.', labelNames, buckets: options.buckets ?? [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1] });
  // Free-form values are accepted but bounded: anything odd or past 32 distinct values becomes "other".
  const operations = new BoundedLabel(32, 'other');
  const tiers = new BoundedLabel(16, 'other');
  const op = (o: string) => operations.bound(WORD.test(o) ? o : 'other');
  const tr = (t: string) => tiers.bound(WORD.test(t) ? t : 'other');
  return {
    hit: (o, t) => hits.inc({ operation: op(o), tier: tr(t) }),
    miss: (o, t) => misses.inc({ operation: op(o), tier: tr(t) }),
    observe: (o, t, s) => {
      if (Number.isFinite(s) && s >= 0) duration.observe({ operation: op(o), tier: tr(t) }, s);
    },
  };
}
