import { isNodeRedis } from './client-adapter.js';
import { CacheOptionsError } from './errors.js';
import { checkLogger } from './logger.js';
import { checkSerializer } from './custom-serializer.js';
import { durationMs } from './ttl.js';
import type {
  CacheLogger,
  CacheMode,
  CacheOptions,
  CacheSerializer,
  IoRedisClientLike,
  MetricsRegistryLike,
  RedisClientLike,
} from './types.js';

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
  'redis',
  'mode',
  'prefix',
  'name',
  'defaultTtl',
  'ttlJitter',
  'grace',
  'operationTimeoutMs',
  'maxEntries',
  'maxBytes',
  'nearCacheTtl',
  'softTimeoutMs',
  'hardTimeoutMs',
  'refreshAhead',
  'distributedLock',
  'lockLeaseMs',
  'breakerThreshold',
  'breakerMaxDelayMs',
  'reconnectMaxDelayMs',
  'connectTimeoutMs',
  'registry',
  'serializer',
  'logger',
  'allowLongTtl',
]);

function num(
  options: CacheOptions,
  field: keyof CacheOptions,
  min: number,
  max: number,
  { integer = false, exclusiveMin = false } = {},
): number | undefined {
  const value = options[field];
  if (value === undefined) return undefined;
  if (
    typeof value !== 'number' ||
    Number.isNaN(value) ||
    (integer && !Number.isInteger(value)) ||
    (exclusiveMin ? value <= min : value < min) ||
    value > max
  ) {
    const range = `${exclusiveMin ? '>' : '>='} ${min}${max === Infinity ? '' : ` and <= ${max}`}`;
    throw new CacheOptionsError(
      `createCache: "${field}" must be ${integer ? 'an integer' : 'a number'} ${range}, got ${String(value)}`,
    );
  }
  return value;
}

/** Validates `createCache` options and applies the defaults. */
export function resolveOptions(input: CacheOptions | undefined): ResolvedOptions {
  const options = input ?? {};
  if (typeof options !== 'object' || options === null)
    throw new CacheOptionsError('createCache: options must be an object');
  for (const key of Object.keys(options)) {
    if (!KNOWN.has(key)) throw new CacheOptionsError(`createCache: unknown option "${key}"`);
  }
  const { redis } = options;
  if (redis !== undefined) {
    if (typeof redis === 'string') {
      if (!/^rediss?:\/\//.test(redis))
        throw new CacheOptionsError('createCache: "redis" must be a redis:// or rediss:// URL or an ioredis instance');
    } else if (
      typeof redis !== 'object' ||
      redis === null ||
      (!isNodeRedis(redis) &&
        (typeof (redis as IoRedisClientLike).duplicate !== 'function' ||
          typeof (redis as IoRedisClientLike).on !== 'function' ||
          typeof (redis as IoRedisClientLike).status !== 'string'))
    ) {
      throw new CacheOptionsError(
        'createCache: "redis" must be a redis:// URL, an ioredis Redis/Cluster or a node-redis client',
      );
    }
  }
  if (options.mode !== undefined && options.mode !== 'fallback' && options.mode !== 'near') {
    throw new CacheOptionsError(`createCache: "mode" must be 'fallback' or 'near', got ${String(options.mode)}`);
  }
  const prefix = options.prefix ?? DEFAULTS.prefix;
  if (typeof prefix !== 'string' || prefix.length === 0 || /[{}*?[\]\s]/.test(prefix)) {
    throw new CacheOptionsError(
      'createCache: "prefix" must be a non-empty string without braces, glob characters or spaces',
    );
  }
  const name = options.name ?? DEFAULTS.name;
  if (typeof name !== 'string' || name.length === 0)
    throw new CacheOptionsError('createCache: "name" must be a non-empty string');
  if (options.distributedLock !== undefined && typeof options.distributedLock !== 'boolean')
    throw new CacheOptionsError('createCache: "distributedLock" must be a boolean');
  const registry = options.registry;
  if (
    registry !== undefined &&
    (typeof registry !== 'object' ||
      registry === null ||
      typeof registry.registerMetric !== 'function' ||
      typeof registry.getSingleMetric !== 'function')
  ) {
    throw new CacheOptionsError('createCache: "registry" must be a prom-client Registry');
  }
  if (options.allowLongTtl !== undefined && typeof options.allowLongTtl !== 'boolean')
    throw new CacheOptionsError('createCache: "allowLongTtl" must be a boolean');
  const allowLongTtl = options.allowLongTtl ?? false;
  const serializer = checkSerializer(options.serializer);
  const logger = checkLogger(options.logger);
  const nearCacheTtlMs =
    options.nearCacheTtl === undefined
      ? DEFAULTS.nearCacheTtl * 1000
      : durationMs(options.nearCacheTtl, 'createCache: "nearCacheTtl"', { allowZero: false, allowLong: false });
  if (nearCacheTtlMs > 86_400_000) throw new CacheOptionsError('createCache: "nearCacheTtl" must be at most 1 day');
  const maxBytes = num(options, 'maxBytes', 1024, Number.MAX_SAFE_INTEGER, { integer: true }) ?? DEFAULTS.maxBytes;
  const maxEntries =
    num(options, 'maxEntries', 1, Number.MAX_SAFE_INTEGER, { integer: true }) ??
    (options.maxBytes !== undefined ? Infinity : DEFAULTS.maxEntries);
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
    defaultTtlMs:
      options.defaultTtl === undefined
        ? DEFAULTS.defaultTtl * 1000
        : durationMs(options.defaultTtl, 'createCache: "defaultTtl"', { allowZero: false, allowLong: allowLongTtl }),
    ttlJitter: num(options, 'ttlJitter', 0, 0.5) ?? DEFAULTS.ttlJitter,
    graceMs:
      options.grace === undefined
        ? DEFAULTS.grace * 1000
        : durationMs(options.grace, 'createCache: "grace"', { allowZero: true, allowLong: allowLongTtl }),
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
