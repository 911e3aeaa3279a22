import { isNodeRedis, type NodeRedisClientLike } from './client-adapter.js';
import { CacheOptionsError } from './errors.js';
import { checkLogger, type CacheLogger } from './logger.js';
import { checkSerializer, type CacheSerializer } from './custom-serializer.js';
import { durationMs, type Duration } from './ttl.js';

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

export interface ResolvedOptions {
  redis: string | RedisClientLike | undefined;
  mode: 'memory' | CacheMode;
  prefix: string;
  name: string;
  defaultTtlMs: number;
  ttlJitter: number;
  graceMs: number;
  operationTimeoutMs: number;
  maxEntries: number;
  maxBytes: number;
  nearCacheTtlMs: number;
  softTimeoutMs: number | undefined;
  hardTimeoutMs: number | undefined;
  refreshAhead: number | undefined;
  distributedLock: boolean;
  lockLeaseMs: number;
  breakerThreshold: number;
  breakerMaxDelayMs: number;
  reconnectMaxDelayMs: number;
  connectTimeoutMs: number;
  registry: MetricsRegistryLike | undefined;
  serializer: CacheSerializer | undefined;
  logger: CacheLogger | undefined;
  allowLongTtl: boolean;
}

/** The defaults, in one place (the JSDoc `@default`s above mirror them). */
export const DEFAULTS = {
  mode: 'fallback',
  prefix: 'cache',
  name: 'default',
  defaultTtl: 300,
  ttlJitter: 0.1,
  grace: 0,
  operationTimeoutMs: 50,
  maxEntries: 10_000,
  maxBytes: 64 * 1024 * 1024,
  nearCacheTtl: 5,
  distributedLock: true,
  lockLeaseMs: 10_000,
  breakerThreshold: 3,
  breakerMaxDelayMs: 1_000,
  reconnectMaxDelayMs: 500,
  connectTimeoutMs: 1_000,
} as const;

const KNOWN = new Set<string>([
  'redis', 'mode', 'prefix', 'name', 'defaultTtl', 'ttlJitter', 'grace', 'operationTimeoutMs', 'maxEntries', 'maxBytes', 'nearCacheTtl', 'softTimeoutMs',
  'hardTimeoutMs', 'refreshAhead', 'distributedLock', 'lockLeaseMs', 'breakerThreshold', 'breakerMaxDelayMs', 'reconnectMaxDelayMs', 'connectTimeoutMs', 'registry',
  'serializer', 'logger', 'allowLongTtl',
]);

function num(options: CacheOptions, field: keyof CacheOptions, min: number, max: number, { integer = false, exclusiveMin = false } = {}): number | undefined {
  const value = options[field];
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || Number.isNaN(value) || (integer && !Number.isInteger(value)) || (exclusiveMin ? value <= min : value < min) || value > max) {
    const range = `${exclusiveMin ? '>' : '>='} ${min}${max === Infinity ? '' : ` and <= ${max}`}`;
    throw new CacheOptionsError(`createCache: "${field}" must be ${integer ? 'an integer' : 'a number'} ${range}, got ${String(value)}`);
  }
  return value;
}

/** Validates `createCache` options and applies the defaults. */
export function resolveOptions(input: CacheOptions | undefined): ResolvedOptions {
  const options = input ?? {};
  if (typeof options !== 'object' || options === null) throw new CacheOptionsError('createCache: options must be an object');
  for (const key of Object.keys(options)) {
    if (!KNOWN.has(key)) throw new CacheOptionsError(`createCache: unknown option "${key}"`);
  }
  const { redis } = options;
  if (redis !== undefined) {
    if (typeof redis === 'string') {
      if (!/^rediss?:\/\//.test(redis)) throw new CacheOptionsError('createCache: "redis" must be a redis:// or rediss:// URL or an ioredis instance');
    } else if (
      typeof redis !== 'object' ||
      redis === null ||
      (!isNodeRedis(redis) && (typeof (redis as IoRedisClientLike).duplicate !== 'function' || typeof (redis as IoRedisClientLike).on !== 'function' || typeof (redis as IoRedisClientLike).status !== 'string'))
    ) {
      throw new CacheOptionsError('createCache: "redis" must be a redis:// URL, an ioredis Redis/Cluster or a node-redis client');
    }
  }
  if (options.mode !== undefined && options.mode !== 'fallback' && options.mode !== 'near') {
    throw new CacheOptionsError(`createCache: "mode" must be 'fallback' or 'near', got ${String(options.mode)}`);
  }
  const prefix = options.prefix ?? DEFAULTS.prefix;
  if (typeof prefix !== 'string' || prefix.length === 0 || /[{}*?[\]\s]/.test(prefix)) {
    throw new CacheOptionsError('createCache: "prefix" must be a non-empty string without braces, glob characters or spaces');
  }
  const name = options.name ?? DEFAULTS.name;
  if (typeof name !== 'string' || name.length === 0) throw new CacheOptionsError('createCache: "name" must be a non-empty string');
  if (options.distributedLock !== undefined && typeof options.distributedLock !== 'boolean') throw new CacheOptionsError('createCache: "distributedLock" must be a boolean');
  const registry = options.registry;
  if (registry !== undefined && (typeof registry !== 'object' || registry === null || typeof registry.registerMetric !== 'function' || typeof registry.getSingleMetric !== 'function')) {
    throw new CacheOptionsError('createCache: "registry" must be a prom-client Registry');
  }
  if (options.allowLongTtl !== undefined && typeof options.allowLongTtl !== 'boolean') throw new CacheOptionsError('createCache: "allowLongTtl" must be a boolean');
  const allowLongTtl = options.allowLongTtl ?? false;
  const serializer = checkSerializer(options.serializer);
  const logger = checkLogger(options.logger);
  const nearCacheTtlMs = options.nearCacheTtl === undefined ? DEFAULTS.nearCacheTtl * 1000 : durationMs(options.nearCacheTtl, 'createCache: "nearCacheTtl"', { allowZero: false, allowLong: false });
  if (nearCacheTtlMs > 86_400_000) throw new CacheOptionsError('createCache: "nearCacheTtl" must be at most 1 day');
  const maxBytes = num(options, 'maxBytes', 1024, Number.MAX_SAFE_INTEGER, { integer: true }) ?? DEFAULTS.maxBytes;
  const maxEntries = num(options, 'maxEntries', 1, Number.MAX_SAFE_INTEGER, { integer: true }) ?? (options.maxBytes !== undefined ? Infinity : DEFAULTS.maxEntries);
  const softTimeoutMs = num(options, 'softTimeoutMs', 0, 3_600_000, { exclusiveMin: true });
  const hardTimeoutMs = num(options, 'hardTimeoutMs', 0, 3_600_000, { exclusiveMin: true });
  if (softTimeoutMs !== undefined && hardTimeoutMs !== undefined && softTimeoutMs >= hardTimeoutMs) {
    throw new CacheOptionsError('createCache: "softTimeoutMs" must be smaller than "hardTimeoutMs"');
  }
  return {
    redis,
    mode: redis === undefined ? 'memory' : (options.mode ?? DEFAULTS.mode),
    prefix,
    name,
    defaultTtlMs: options.defaultTtl === undefined ? DEFAULTS.defaultTtl * 1000 : durationMs(options.defaultTtl, 'createCache: "defaultTtl"', { allowZero: false, allowLong: allowLongTtl }),
    ttlJitter: num(options, 'ttlJitter', 0, 0.5) ?? DEFAULTS.ttlJitter,
    graceMs: options.grace === undefined ? DEFAULTS.grace * 1000 : durationMs(options.grace, 'createCache: "grace"', { allowZero: true, allowLong: allowLongTtl }),
    operationTimeoutMs: num(options, 'operationTimeoutMs', 1, 60_000) ?? DEFAULTS.operationTimeoutMs,
    maxEntries,
    maxBytes,
    nearCacheTtlMs,
    softTimeoutMs,
    hardTimeoutMs,
    refreshAhead: num(options, 'refreshAhead', 0, 1, { exclusiveMin: true }),
    distributedLock: options.distributedLock ?? DEFAULTS.distributedLock,
    lockLeaseMs: num(options, 'lockLeaseMs', 100, 3_600_000, { integer: true }) ?? DEFAULTS.lockLeaseMs,
    breakerThreshold: num(options, 'breakerThreshold', 1, 1000, { integer: true }) ?? DEFAULTS.breakerThreshold,
    breakerMaxDelayMs: num(options, 'breakerMaxDelayMs', 10, 600_000) ?? DEFAULTS.breakerMaxDelayMs,
    reconnectMaxDelayMs: num(options, 'reconnectMaxDelayMs', 10, 600_000) ?? DEFAULTS.reconnectMaxDelayMs,
    connectTimeoutMs: num(options, 'connectTimeoutMs', 10, 600_000) ?? DEFAULTS.connectTimeoutMs,
    registry,
    serializer,
    logger,
    allowLongTtl,
  };
}
