import type { Counter, Histogram } from 'prom-client';
import { BoundedLabel } from './labels.js';
import type { CacheMetrics, CacheMetricsOptions, Metrics } from './types.js';
import { MetricsOptionsError } from './errors.js';

const WORD = /^[a-z0-9_]{1,32}$/;

/**
 * `cache_hits_total{cache,tier}`, `cache_misses_total{cache,tier}` and
 * `cache_operation_duration_seconds{cache,operation,tier}`: exactly the series @org/cache emits, so a hand-written
 * cache and @org/cache can share a registry (and the dashboard) in either order. When the registry already holds
 * them with these labels (@org/cache registered them), they are reused whatever their help text says.
 */
export function createCacheMetrics(metrics: Metrics, options: CacheMetricsOptions = {}): CacheMetrics {
  const cache = options.name ?? 'default';
  if (!WORD.test(cache)) throw new MetricsOptionsError(`createCacheMetrics: name must match ${String(WORD)}`);
  const existing = <M>(name: string, labels: readonly string[]): M | undefined => {
    const m = metrics.registry.getSingleMetric(name) as unknown as { labelNames?: string[] } | undefined;
    return m && m.labelNames?.length === labels.length && labels.every((l) => m.labelNames!.includes(l))
      ? (m as M)
      : undefined;
  };
  const counterLabels = ['cache', 'tier'] as const;
  const durationLabels = ['cache', 'operation', 'tier'] as const;
  const hits =
    existing<Counter<'cache' | 'tier'>>('cache_hits_total', counterLabels) ??
    metrics.counter({
      name: 'cache_hits_total',
      help: 'Cache reads answered with a value, by tier.',
      labelNames: counterLabels,
    });
  const misses =
    existing<Counter<'cache' | 'tier'>>('cache_misses_total', counterLabels) ??
    metrics.counter({
      name: 'cache_misses_total',
      help: 'Cache reads that found no value, by tier.',
      labelNames: counterLabels,
    });
  const duration =
    existing<Histogram<'cache' | 'operation' | 'tier'>>('cache_operation_duration_seconds', durationLabels) ??
    metrics.histogram({
      name: 'cache_operation_duration_seconds',
      help: 'Duration of cache operations, by operation and the tier that answered.',
      labelNames: durationLabels,
      buckets: options.buckets ?? [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
    });
  // Free-form values are accepted but bounded: anything odd or past 32 distinct values becomes "other".
  const operations = new BoundedLabel(32, 'other');
  const tiers = new BoundedLabel(16, 'other');
  const op = (o: string) => operations.bound(WORD.test(o) ? o : 'other');
  const tr = (t: string) => tiers.bound(WORD.test(t) ? t : 'other');
  return {
    hit: (t) => hits.inc({ cache, tier: tr(t) }),
    miss: (t) => misses.inc({ cache, tier: tr(t) }),
    observe: (o, t, s) => {
      if (Number.isFinite(s) && s >= 0) duration.observe({ cache, operation: op(o), tier: tr(t) }, s);
    },
  };
}
