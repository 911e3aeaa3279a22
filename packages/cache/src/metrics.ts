import { performance } from 'node:perf_hooks';
import type { MetricsSink, Tier } from './accounting.js';
import type { BreakerState, MetricsRegistryLike } from './types.js';
import { loadPeer } from './peers.js';

type Labels = Record<string, string>;
interface CounterLike {
  inc(labels: Labels, value?: number): void;
}
interface HistogramLike {
  observe(labels: Labels, value: number): void;
}
interface GaugeLike {
  set(labels: Labels, value: number): void;
}
interface PromClient {
  Counter: new (config: Record<string, unknown>) => CounterLike;
  Histogram: new (config: Record<string, unknown>) => HistogramLike;
  Gauge: new (config: Record<string, unknown>) => GaugeLike;
}

const BREAKER_VALUE: Record<BreakerState, number> = { closed: 0, 'half-open': 1, open: 2 };

/**
 * prom-client metrics of one cache. Labels are bounded sets (operation, tier, cache name, error
 * kind), never the key or the tenant. Several caches may share one registry: an existing metric of
 * the same name is reused and told apart by the `cache` label.
 */
export class CacheMetrics implements MetricsSink {
  private readonly hits: CounterLike;
  private readonly misses: CounterLike;
  private readonly duration: HistogramLike;
  private readonly errors: CounterLike;
  private readonly stale: CounterLike;
  private readonly evictions: CounterLike;
  private readonly breaker: GaugeLike;
  private readonly redisUp: GaugeLike;
  private readonly cache: string;

  constructor(registry: MetricsRegistryLike, cacheName: string) {
    const prom = loadPeer<PromClient>('prom-client');
    this.cache = cacheName;
    const make = <M>(
      Kind: new (config: Record<string, unknown>) => M,
      name: string,
      help: string,
      labelNames: string[],
      extra: Record<string, unknown> = {},
    ): M =>
      (registry.getSingleMetric(name) as M | undefined) ??
      new Kind({ name, help, labelNames: ['cache', ...labelNames], registers: [registry], ...extra });
    this.hits = make(prom.Counter, 'cache_hits_total', 'Cache reads answered with a value, by tier.', ['tier']);
    this.misses = make(prom.Counter, 'cache_misses_total', 'Cache reads that found no value, by tier.', ['tier']);
    this.duration = make(
      prom.Histogram,
      'cache_operation_duration_seconds',
      'Duration of cache operations, by operation and the tier that answered.',
      ['operation', 'tier'],
      {
        buckets: [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      },
    );
    this.errors = make(
      prom.Counter,
      'cache_errors_total',
      'Redis errors and timeouts the cache absorbed (served from memory instead).',
      ['kind'],
    );
    this.stale = make(prom.Counter, 'cache_stale_served_total', 'Values served past their TTL by wrap (grace).', []);
    this.evictions = make(
      prom.Counter,
      'cache_evictions_total',
      'Entries evicted from memory to respect maxEntries/maxBytes.',
      [],
    );
    this.breaker = make(
      prom.Gauge,
      'cache_breaker_state',
      'Circuit breaker in front of Redis: 0 closed, 1 half-open, 2 open.',
      [],
    );
    this.redisUp = make(
      prom.Gauge,
      'cache_redis_up',
      '1 while Redis is used, 0 while the cache serves from memory.',
      [],
    );
  }

  hit(tier: Tier): void {
    this.hits.inc({ cache: this.cache, tier });
  }
  miss(tier: Tier): void {
    this.misses.inc({ cache: this.cache, tier });
  }
  now(): number {
    return performance.now();
  }
  observe(operation: string, tier: Tier, startedAt: number): void {
    this.duration.observe({ cache: this.cache, operation, tier }, (performance.now() - startedAt) / 1000);
  }
  error(kind: 'timeout' | 'error'): void {
    this.errors.inc({ cache: this.cache, kind });
  }
  staleServed(): void {
    this.stale.inc({ cache: this.cache });
  }
  evicted(): void {
    this.evictions.inc({ cache: this.cache });
  }
  breakerState(state: BreakerState): void {
    this.breaker.set({ cache: this.cache }, BREAKER_VALUE[state]);
  }
  redis(up: boolean): void {
    this.redisUp.set({ cache: this.cache }, up ? 1 : 0);
  }
}
