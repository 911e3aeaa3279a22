/**
 * Accounting: the counters of `stats()` (per cache and per tenant), the events of reads and writes, and the metrics.
 * There is one path whether metrics are on or off: every operation reports to a `MetricsSink`, which is the
 * prom-client one (metrics.ts) with a `registry`, or `NO_METRICS`, whose methods do nothing, without one.
 */
import type { Emitter } from './emitter.js';
import type { Namespace } from './key-scope.js';
import type { BreakerState, CacheCounters } from './types.js';

export type Tier = 'memory' | 'redis';

/** Where the cache reports what it does, for metrics. */
export interface MetricsSink {
  /** A start time for `observe` (0 when nothing is measured, so no clock is read). */
  now(): number;
  /** One operation that started at `startedAt` (from `now`) finished, answered by `tier`. */
  observe(operation: string, tier: Tier, startedAt: number): void;
  hit(tier: Tier): void;
  miss(tier: Tier): void;
  error(kind: 'timeout' | 'error'): void;
  staleServed(): void;
  evicted(): void;
  breakerState(state: BreakerState): void;
  redis(up: boolean): void;
}

const nothing = (): void => {};

/** The sink of a cache without `registry`. */
export const NO_METRICS: MetricsSink = {
  now: () => 0,
  observe: nothing,
  hit: nothing,
  miss: nothing,
  error: nothing,
  staleServed: nothing,
  evicted: nothing,
  breakerState: nothing,
  redis: nothing,
};

export const newCounters = (): CacheCounters => ({
  hits: { memory: 0, redis: 0 },
  misses: { memory: 0, redis: 0 },
  sets: 0,
  deletes: 0,
  staleServes: 0,
  factoryCalls: 0,
  factoryErrors: 0,
  errors: 0,
  timeouts: 0,
});

/** The accounting of one cache (root or tenant): its own counters, the root's totals for a tenant, the sink, the events. */
export class Accounting {
  readonly counters: CacheCounters;

  constructor(
    /** The root cache's counters; a tenant counts there too. */
    private readonly totals: CacheCounters,
    isRoot: boolean,
    readonly sink: MetricsSink,
    private readonly emitter: Emitter,
    private readonly ns: Namespace,
  ) {
    this.counters = isRoot ? totals : newCounters();
  }

  /** `key` is a Redis key unless `isFull` is false (then a memory key); events carry the memory key. */
  hit(key: string, tier: Tier, isFull = true): void {
    this.counters.hits[tier]++;
    if (this.counters !== this.totals) this.totals.hits[tier]++;
    this.sink.hit(tier);
    if (this.emitter.has('hit')) this.emitter.emit('hit', { key: isFull ? this.ns.mk(key) : key, tier });
  }

  miss(key: string, tier: Tier, isFull = true): void {
    this.counters.misses[tier]++;
    if (this.counters !== this.totals) this.totals.misses[tier]++;
    this.sink.miss(tier);
    if (this.emitter.has('miss')) this.emitter.emit('miss', { key: isFull ? this.ns.mk(key) : key });
  }

  /** `wrap` served a value past its TTL. */
  served(full: string, reason: 'error' | 'soft-timeout'): void {
    this.counters.staleServes++;
    if (this.counters !== this.totals) this.totals.staleServes++;
    this.sink.staleServed();
    this.emitter.emit('stale', { key: this.ns.mk(full), reason });
  }

  set(): void {
    this.counters.sets++;
    if (this.counters !== this.totals) this.totals.sets++;
  }

  deleted(): void {
    this.counters.deletes++;
    if (this.counters !== this.totals) this.totals.deletes++;
  }

  factoryCall(): void {
    this.counters.factoryCalls++;
    if (this.counters !== this.totals) this.totals.factoryCalls++;
  }

  factoryError(): void {
    this.counters.factoryErrors++;
    if (this.counters !== this.totals) this.totals.factoryErrors++;
  }
}
