/**
 * The state a root cache and its tenant caches share: options, the memory tier, the Redis tier and its hooks, the
 * emitter, the metrics sink, the root counters, and the helpers that each do one job (single-flight, invalidation,
 * outage replay). Built once by `createCache`; each `Scope` (cache.ts) reads and writes through it. The other modules
 * see it as `CacheState` (state.ts) and never import this file.
 */
import { randomBytes } from 'node:crypto';
import { NO_METRICS, newCounters, type MetricsSink } from './accounting.js';
import { builtinCodec, customCodec, type Codec } from './custom-serializer.js';
import { Emitter } from './emitter.js';
import type { CacheRedisError } from './errors.js';
import { Invalidation } from './invalidation.js';
import { Namespace } from './key-scope.js';
import { attachLogger } from './logger.js';
import { MemoryStore } from './memory-store.js';
import { CacheMetrics } from './metrics.js';
import { resolveOptions, type ResolvedOptions } from './options.js';
import { OutageReplay } from './outage-replay.js';
import { RedisTier } from './redis-tier.js';
import { RedisFeatures } from './redis-version.js';
import { SingleFlight } from './single-flight.js';
import type { CacheState, ScopeRef } from './state.js';
import type { CacheCounters, CacheOptions } from './types.js';

export class Core implements CacheState {
  readonly o: ResolvedOptions;
  readonly ns: Namespace;
  readonly memory: MemoryStore;
  readonly redis: RedisTier | undefined;
  readonly emitter = new Emitter();
  /** The prom-client metrics with a `registry`, else a sink that does nothing. */
  readonly sink: MetricsSink;
  /** The root cache's counters. */
  readonly totals: CacheCounters = newCounters();
  /** The tenant caches whose stats the root lists, by tenant id. */
  readonly tenants = new Map<string, ScopeRef & { readonly tenant: string | undefined }>();
  readonly id = randomBytes(6).toString('base64url');
  readonly resolved: Promise<undefined> = Promise.resolve(undefined);
  /** How values are checked and encoded: the built-in encoding or the `serializer` option. */
  readonly codec: Codec;
  /** What the connected Redis supports (detected on every connect). */
  readonly features: RedisFeatures;
  readonly flight: SingleFlight;
  readonly invalidation: Invalidation;
  readonly outage: OutageReplay;
  evictions = 0;
  closed = false;

  constructor(options: CacheOptions | undefined) {
    this.o = resolveOptions(options);
    this.ns = new Namespace(this.o.prefix);
    this.sink = this.o.registry ? new CacheMetrics(this.o.registry, this.o.name) : NO_METRICS;
    this.codec = this.o.serializer ? customCodec(this.o.serializer) : builtinCodec;
    this.features = new RedisFeatures(this.o.name, this.o.logger, (error) => this.onRedisError(error, 'version'));
    if (this.o.logger) attachLogger(this.emitter, this.o.logger, this.o.name);
    this.memory = new MemoryStore({
      maxEntries: this.o.maxEntries,
      maxBytes: this.o.maxBytes,
      onEvict: (key) => {
        this.evictions++;
        this.sink.evicted();
        if (this.emitter.has('evict')) this.emitter.emit('evict', { key });
      },
    });
    this.flight = new SingleFlight(this);
    this.invalidation = new Invalidation(this);
    this.outage = new OutageReplay(this);
    if (this.o.mode !== 'memory') {
      const needsChannel = this.o.mode === 'near' || this.o.distributedLock;
      this.redis = new RedisTier(
        this.o,
        {
          up: () => this.onRedisUp(),
          down: (reason) => {
            this.sink.redis(false);
            this.emitter.emit('redis:down', { reason });
          },
          error: (error, operation) => this.onRedisError(error, operation),
          breaker: (state) => {
            this.sink.breakerState(state);
            this.emitter.emit('breaker', { state });
          },
          message: (message) => this.invalidation.onMessage(message),
          resubscribed: () => this.invalidation.onResubscribed(),
        },
        needsChannel ? this.ns.channel : undefined,
      );
      this.sink.breakerState('closed');
      this.sink.redis(this.redis.usable);
    }
  }

  private cachedNow = 0;

  /**
   * A clock for `peek` that reads Date.now() at most about once per millisecond (like lru-cache's
   * `ttlResolution`): `peek` is the synchronous hot path, and the clock read was most of its cost.
   * Within one synchronous run the time stands still, so an entry may be served up to one event-loop
   * turn past its expiry.
   */
  coarseNow(): number {
    if (this.cachedNow !== 0) return this.cachedNow;
    this.cachedNow = Date.now();
    setTimeout(() => {
      this.cachedNow = 0;
    }, 1).unref();
    return this.cachedNow;
  }

  jitter(ttlMs: number): number {
    const j = this.o.ttlJitter;
    return j === 0 ? ttlMs : Math.max(1, Math.round(ttlMs * (1 + (Math.random() * 2 - 1) * j)));
  }

  private onRedisUp(): void {
    this.outage.replay();
    this.sink.redis(true);
    void this.features.detect((command) => this.redis!.exec('INFO', command));
    this.emitter.emit('redis:up', {});
  }

  /** A Redis error or timeout the cache absorbed: counted on the root cache, reported as an `error` event. */
  private onRedisError(error: CacheRedisError, operation: string): void {
    if (error.code === 'CACHE_REDIS_TIMEOUT') {
      this.totals.timeouts++;
      this.sink.error('timeout');
    } else {
      this.totals.errors++;
      this.sink.error('error');
    }
    this.emitter.emit('error', { error, operation });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.flight.wakeAll();
    await this.redis?.close();
    this.memory.clear('');
    this.emitter.clear();
  }
}
