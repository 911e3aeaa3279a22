// The @org libraries of the app, created together from the configuration: one prom-client Registry shared by
// @org/metrics, @org/cache and @org/tiered-rate-limit; Redis from REDIS_URL (memory without it). compose.ts, the tests
// and the benchmark build them here, so they all run the same composition.
import { createCache, type Cache } from '@org/cache';
import type { RateLimitMiddleware } from '@org/tiered-rate-limit';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { Registry } from 'prom-client';
import { createUserRecords, type UserRecords } from './features/billing/user-record.js';
import type { Database } from './db/database.js';
import { createApiRateLimit, type ApiRateLimitOptions } from './features/billing/rate-limit.js';
import { createAppMetrics, type AppMetrics } from './observability/metrics.js';

/** Options of {@link createLibraries}. */
export interface LibrariesOptions {
  db: Database;
  logger: Logger;
  /** Undefined: memory cache and memory rate limits. */
  redisUrl: string | undefined;
  enableMetrics: boolean;
  sessionSecret: string;
  isProduction: boolean;
  /** @org/cache mode: `near` keeps a 5 s memory copy of hot keys (evicted over pub/sub on change). @default 'near' */
  cacheMode?: 'fallback' | 'near';
  /** Rate-limit tiers. @default API_TIERS (free, pro and enterprise: general and analysis policies) */
  rateLimitTiers?: ApiRateLimitOptions['tiers'];
  /** How long a rate-limit decision waits for Redis. @default 30 (the limiter's default) */
  rateLimitTimeoutMs?: number;
  /** Key prefixes in Redis (tests isolate themselves with their own). @default { cache: 'api', rateLimit: 'rl:' } */
  prefixes?: { cache?: string; rateLimit?: string };
}

/** What createLibraries returns; `close()` closes exactly what it created (the Registry has nothing to close). */
export interface Libraries {
  registry: Registry;
  metrics: AppMetrics | undefined;
  cache: Cache;
  users: UserRecords;
  rateLimit: RateLimitMiddleware;
  backend: 'redis' | 'memory';
  close(): Promise<void>;
}

export function createLibraries(options: LibrariesOptions): Libraries {
  const { db, logger, redisUrl } = options;
  const registry = new Registry();
  // The cache creates (and closes) its own fail-fast client from the URL; memory only without REDIS_URL.
  const cache = createCache({
    redis: redisUrl,
    mode: options.cacheMode ?? 'near',
    prefix: options.prefixes?.cache ?? 'api',
    name: 'api',
    registry,
  });
  cache.on('redis:down', () => logger.warn('cache: Redis unavailable, serving from memory'));
  cache.on('redis:up', () => logger.info('cache: Redis available'));
  // The rate limiter decides through its own fail-fast duplicate of this client; this one never connects itself.
  const rateLimitRedis = redisUrl ? new Redis(redisUrl, { lazyConnect: true }) : undefined;
  const metrics = options.enableMetrics
    ? createAppMetrics({
        registry,
        pool: db.pool,
        db,
        dependencies: {
          postgres: async () => {
            if (!(await db.ping(400))) throw new Error('down');
          },
          ...(redisUrl
            ? {
                redis: async () => {
                  if (cache.stats().redis !== 'up') throw new Error('down');
                },
              }
            : {}),
        },
      })
    : undefined;
  const users = createUserRecords({ db, cache });
  const rateLimit = createApiRateLimit({
    db,
    sessionSecret: options.sessionSecret,
    isProduction: options.isProduction,
    cache,
    users,
    redis: rateLimitRedis,
    registry,
    logger,
    prefix: options.prefixes?.rateLimit,
    tiers: options.rateLimitTiers,
    timeoutMs: options.rateLimitTimeoutMs,
  });
  return {
    registry,
    metrics,
    cache,
    users,
    rateLimit,
    backend: redisUrl ? 'redis' : 'memory',
    async close() {
      await rateLimit.close().catch((error: unknown) => logger.warn({ err: error }, 'closing the rate limiter failed'));
      rateLimitRedis?.disconnect();
      await cache.close().catch((error: unknown) => logger.warn({ err: error }, 'closing the cache failed'));
      metrics?.close();
    },
  };
}
