/** The public types of @org/cache (re-exported from index.ts). */
import type { Duration } from './ttl.js';

// ---- createCache options ------------------------------------------------------------------------

/**
 * A Redis client the cache accepts: an ioredis `Redis` or `Cluster`, or a node-redis v5 client
 * (`createClient()` of `redis` or `@redis/client`; not its cluster). Declared structurally so that
 * memory-only users need neither library nor its types.
 */
export type RedisClientLike = IoRedisClientLike | NodeRedisClientLike;

/** The part of an ioredis `Redis` or `Cluster` instance the cache relies on. */
export interface IoRedisClientLike {
  readonly status: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- matches ioredis' own listener type
  on(event: string, listener: (...args: any[]) => void): unknown;
  duplicate(...args: never[]): unknown;
}

/** The part of a prom-client `Registry` the cache relies on. */
export interface MetricsRegistryLike {
  getSingleMetric(name: string): unknown;
  registerMetric(metric: never): void;
}

/** How the cache uses Redis when one is configured. */
export type CacheMode = 'fallback' | 'near';

/** Options of `createCache`. Every field is optional; without `redis` the cache is memory only. */
export interface CacheOptions {
  /** A Redis URL (the cache creates and closes an ioredis client), or an ioredis `Redis`/`Cluster` or node-redis v5 client (you connect and close it). @default undefined (memory only) */
  redis?: string | RedisClientLike;
  /** `fallback`: Redis is primary, memory serves only while Redis is unavailable; `near`: memory in front of Redis with `nearCacheTtl`, invalidated over pub/sub. @default 'fallback' */
  mode?: CacheMode;
  /** Namespace of every key and channel; `clear()` deletes only this namespace. @default 'cache' */
  prefix?: string;
  /** Value of the `cache` label on metrics, to tell several caches apart. @default 'default' */
  name?: string;
  /** TTL when a call gives none: seconds, or a string such as `'5m'`. @default 300 (CacheTTL.MEDIUM) */
  defaultTtl?: Duration;
  /** Accept numeric TTLs (`defaultTtl`, `grace`) above 30 days; without it they throw, since they are usually milliseconds by mistake. @default false */
  allowLongTtl?: boolean;
  /** Random spread of every TTL, as a fraction (0.1 = ±10 %), so entries written together do not expire together. @default 0.1 */
  ttlJitter?: number;
  /** Time past its TTL that `wrap` may still serve a value when the factory fails or is slow (stale-if-error): seconds or a string such as `'1h'`. @default 0 */
  grace?: Duration;
  /** Deadline of every Redis operation in ms; on expiry the call is served from memory. @default 50 */
  operationTimeoutMs?: number;
  /** Most entries the in-memory tier holds. @default 10000, or unlimited when only `maxBytes` is given */
  maxEntries?: number;
  /** Byte budget of the in-memory tier (encoded size plus per-entry overhead). @default 67108864 (64 MiB) */
  maxBytes?: number;
  /** In `near` mode, how long a value stays in memory before it is read from Redis again: seconds or a string such as `'5s'`. @default 5 */
  nearCacheTtl?: Duration;
  /** `wrap`: after this many ms a stale value (within `grace`) is returned while the factory keeps running. @default undefined (off) */
  softTimeoutMs?: number;
  /** `wrap`: after this many ms the call rejects with `CacheFactoryTimeoutError`. @default undefined (off) */
  hardTimeoutMs?: number;
  /** `wrap`: refresh in the background once this fraction of the TTL has elapsed (e.g. 0.8). @default undefined (off) */
  refreshAhead?: number;
  /** Single-flight across processes with a Redis lock (falls back to in-process when Redis is down). @default true */
  distributedLock?: boolean;
  /** Lease of the cross-process lock in ms; waiters give up and compute the value themselves after it. @default 10000 */
  lockLeaseMs?: number;
  /** Consecutive Redis failures or timeouts that open the circuit breaker. @default 3 */
  breakerThreshold?: number;
  /** Longest wait between two half-open probes while the breaker is open, in ms. @default 1000 */
  breakerMaxDelayMs?: number;
  /** For a client the cache creates: longest delay between reconnect attempts in ms (exponential from 50 ms, with jitter). @default 500 */
  reconnectMaxDelayMs?: number;
  /** For a client the cache creates: connect timeout in ms (a black-holed host fails after it). @default 1000 */
  connectTimeoutMs?: number;
  /** A prom-client `Registry`: registers cache_hits_total, cache_misses_total, cache_operation_duration_seconds and more. @default undefined (no metrics) */
  registry?: MetricsRegistryLike;
  /** How values are written to Redis (`serialize` to a string, `deserialize` back), e.g. superjson. @default the built-in lossless JSON encoding */
  serializer?: CacheSerializer;
  /** A pino-compatible logger: Redis outages, recoveries and version fallbacks are logged once each, never keys, values or credentials. @default undefined (silent; subscribe to events instead) */
  logger?: CacheLogger;
}

/** The part of a node-redis v5 client (`createClient()` of `redis` or `@redis/client`) the adapter uses. */
export interface NodeRedisClientLike {
  readonly isOpen: boolean;
  readonly isReady: boolean;
  sendCommand(args: string[]): Promise<unknown>;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- node-redis types its listeners with any[]
  on(event: string, listener: (...args: any[]) => void): unknown;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- node-redis types its listeners with any[]
  off(event: string, listener: (...args: any[]) => void): unknown;
  connect(): Promise<unknown>;
  duplicate(): NodeRedisClientLike;
  subscribe(channel: string, listener: (message: string, channel: string) => void): Promise<unknown>;
  destroy(): void;
}

/**
 * The part of a pino (or bunyan, or console-like) logger the cache uses: an object with the fields first, then the
 * message. `debug` is optional.
 */
export interface CacheLogger {
  error(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
  info(fields: Record<string, unknown>, message: string): void;
  debug?(fields: Record<string, unknown>, message: string): void;
}

/**
 * Turns values into the text stored in Redis and back (superjson, devalue, msgpack as base64...). The memory tier
 * keeps values as they are. All processes sharing a `prefix` must use the same serializer.
 */
export interface CacheSerializer {
  serialize(value: unknown): string;
  deserialize(text: string): unknown;
}

// ---- the cache ----------------------------------------------------------------------------------

/** The TTL (seconds, or a string such as `'5m'`), or the per-call options of `set`. */
export type SetOptions =
  | Duration
  | {
      /** Seconds, or a string such as `'30s'`, `'5m'`, `'1h'`, `'1d'`. */
      ttl?: Duration;
      /** Tags for `deleteByTag`. */
      tags?: readonly string[];
      /** Grace (stale-if-error) for this entry: seconds or a string. */
      grace?: Duration;
      /** Accept a numeric `ttl`/`grace` above 30 days (numbers that large are usually milliseconds by mistake). */
      allowLongTtl?: boolean;
    };

/** The factory of `wrap`: computes the value; `ctx` adjusts how it is cached. */
export type WrapFactory<T> = (ctx: FactoryContext<T>) => T | Promise<T>;

/** The TTL (seconds, or a string such as `'5m'`), or the per-call options of `wrap`. */
export type WrapOptions =
  | Duration
  | {
      /** Seconds, or a string such as `'30s'`, `'5m'`, `'1h'`, `'1d'`; `ctx.setTtl` in the factory overrides it. */
      ttl?: Duration;
      /** Tags for `deleteByTag`; `ctx.setTags` in the factory overrides them. */
      tags?: readonly string[];
      /** Grace (stale-if-error) for this entry: seconds or a string. */
      grace?: Duration;
      /** Accept a numeric `ttl`/`grace` (and `ctx.setTtl`) above 30 days. */
      allowLongTtl?: boolean;
      /** Overrides the cache's `softTimeoutMs` for this call. */
      softTimeoutMs?: number;
      /** Overrides the cache's `hardTimeoutMs` for this call. */
      hardTimeoutMs?: number;
    };

/** Counters of one cache or one tenant. */
export interface CacheCounters {
  hits: { memory: number; redis: number };
  misses: { memory: number; redis: number };
  sets: number;
  deletes: number;
  /** Values `wrap` served past their TTL (grace). */
  staleServes: number;
  factoryCalls: number;
  factoryErrors: number;
  /** Redis errors absorbed (the call was served from memory). */
  errors: number;
  /** Redis operations that missed their deadline. */
  timeouts: number;
}

/** What `stats()` returns. */
export interface CacheStats extends CacheCounters {
  mode: 'memory' | 'fallback' | 'near';
  /** `none` without Redis; `up` while Redis is used; `down` while memory serves. */
  redis: 'none' | 'up' | 'down';
  /** The ioredis connection status (`ready`, `connecting`, `reconnecting`, ...), when there is Redis. */
  connection: string | undefined;
  breaker: BreakerState | 'none';
  /** Entries evicted from memory to respect the limits (whole cache). */
  evictions: number;
  memory: { entries: number; bytes: number; maxEntries: number; maxBytes: number };
  /** The tenant of a `forTenant` cache. */
  tenant: string | undefined;
  /** Per-tenant counters (root cache only). */
  tenants: Record<string, CacheCounters>;
}

/** The cache: the same API for memory-only, Redis with fallback, and near-cache modes. */
export interface Cache {
  /** The value, or `undefined` on a miss. Never rejects because of Redis. */
  get<T = unknown>(key: string): Promise<T | undefined>;
  /** Stores a value (rejects with `CacheSerializationError` if it cannot round-trip). */
  set(key: string, value: unknown, options?: SetOptions): Promise<void>;
  /** Deletes a key; true when something was deleted. */
  delete(key: string): Promise<boolean>;
  has(key: string): Promise<boolean>;
  /** The cached value, or the factory's (called once per key across callers and processes). */
  wrap<T>(key: string, factory: WrapFactory<T>, options?: WrapOptions): Promise<T>;
  /** Alias of `wrap`. */
  getOrSet<T>(key: string, factory: WrapFactory<T>, options?: WrapOptions): Promise<T>;
  getMany<T = unknown>(keys: readonly string[]): Promise<(T | undefined)[]>;
  setMany(entries: readonly { key: string; value: unknown; options?: SetOptions }[]): Promise<void>;
  /** Synchronous read of the in-memory tier only (no Redis, no stats). */
  peek<T = unknown>(key: string): T | undefined;
  /** Deletes every key written with this tag; resolves with how many keys went. */
  deleteByTag(tag: string): Promise<number>;
  /** Deletes every key of this cache's namespace (a tenant cache: only that tenant's keys). */
  clear(): Promise<void>;
  /** A cache whose keys live under the tenant's prefix and hash tag, with its own stats. */
  forTenant(tenantId: string | number): Cache;
  stats(): CacheStats;
  /** Subscribes to an event; returns the unsubscribe function. */
  on<E extends CacheEventName>(event: E, listener: (payload: CacheEvents[E]) => void): () => void;
  /** Closes what the cache created (never a client you passed in). A tenant cache's close is a no-op. */
  close(): Promise<void>;
}

/** What the factory of `wrap` receives: adjust how its result is cached, or skip caching it. */
export interface FactoryContext<T = unknown> {
  /** The key `wrap` was called with (without the cache's prefix or tenant). */
  readonly key: string;
  /** The previous value, past its TTL but within `grace`, when there is one (e.g. to refresh it with a conditional request). */
  readonly stale: { readonly value: T; readonly expiredAt: number } | undefined;
  /** Caches the result for this long instead of the call's TTL (e.g. a token's own `expiresIn`). Same rules as `ttl`. */
  setTtl(ttl: Duration): void;
  /** Replaces the call's tags for this result (e.g. tags read from the fetched object). */
  setTags(tags: readonly string[]): void;
  /** Returns the result to the caller without caching it (e.g. an empty list or a partial answer). */
  skip(): void;
}

// ---- events and errors --------------------------------------------------------------------------

/** Events of a cache, with what each listener receives. */
export interface CacheEvents {
  hit: { key: string; tier: 'memory' | 'redis' };
  miss: { key: string };
  set: { key: string; tier: 'memory' | 'redis' };
  delete: { key: string };
  /** `wrap` served a value past its TTL (factory failed or was slower than `softTimeoutMs`). */
  stale: { key: string; reason: 'error' | 'soft-timeout' };
  /** A Redis operation failed or missed its deadline; the call was served from memory. */
  error: { error: CacheErrorLike; operation: string };
  /** Redis became usable (first connect, reconnect, breaker closed). */
  'redis:up': Record<string, never>;
  /** Redis became unusable; memory serves until it returns. */
  'redis:down': { reason: string };
  breaker: { state: 'closed' | 'open' | 'half-open' };
  /** An entry left memory to make room. */
  evict: { key: string };
  /** Another process changed a key (near mode): the local copy was dropped. */
  invalidate: { key: string };
}

export type CacheEventName = keyof CacheEvents;

export type BreakerState = 'closed' | 'open' | 'half-open';

/** What `error` events carry: a `CacheError` with a stable code and the original error as cause. */
export interface CacheErrorLike extends Error {
  readonly code: string;
}
