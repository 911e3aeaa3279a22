import type { Cache } from '@org/cache';
import type { Request } from 'express';
import type { Redis } from 'ioredis';
import type { Registry } from 'prom-client';
import { defineTiers, tieredRateLimit, type RateLimitMiddleware, type TierDefinition } from '@org/tiered-rate-limit';
import type { Logger } from 'pino';
import type { UserRecords } from './user-record.js';
import { createApiKeyStore } from '../../auth/api-keys.js';
import { CredentialFailures } from '../../auth/credential-failures.js';
import { principalResolver } from '../../auth/middleware.js';
import { createSessionStore, sessionCookie } from '../../auth/sessions.js';
import type { Queryable } from '../../db/database.js';
import { rateLimitAnswer } from '../../http/error-catalog.js';
import { TIERS, type Tier } from './tiers.js';

/** The tier's rate-limit policies, derived from the one tier table (tiers.ts). */
function limiterTier(name: Tier, label: string) {
  const plan = TIERS[name];
  return {
    label,
    policies: {
      general: { limit: plan.requestsPerMinute, window: '1m' },
      analysis: { limit: plan.analysesPerHour, window: '1h', onStoreUnavailable: 'closed' },
    },
    metadata: { historyRetentionDays: plan.retentionDays },
  } satisfies TierDefinition;
}

/**
 * The rate limiter's view of the tiers (TIERS in tiers.ts): general requests per minute, analyses per hour, history
 * retention in days (null: unlimited). `analysis` fails closed while Redis is down (503 with Retry-After: an analysis
 * is expensive), `general` falls back to a per-instance memory limiter.
 */
export const API_TIERS = defineTiers({
  free: limiterTier('free', 'Free'),
  pro: limiterTier('pro', 'Pro'),
  enterprise: limiterTier('enterprise', 'Enterprise'),
} satisfies Record<Tier, TierDefinition>);

/**
 * Only the `general` policy is decided here, for every request. The `analysis` policy is charged by the routes that
 * run analyses, where the route and its cost are known (src/jobs/budget.ts), never by matching a path string here:
 * Express matches paths in ways a string test does not (case, trailing slashes, mount aliases).
 */
const GENERAL = Object.freeze(['general'] as const);

/** Options of {@link createApiRateLimit}. */
export interface ApiRateLimitOptions {
  /** Sessions and API keys are looked up here (once per request: authentication reuses the answer). */
  db: Queryable;
  sessionSecret: string;
  isProduction: boolean;
  /** Verified sessions and API keys are remembered here for 30 s (src/auth/principal-cache.ts). @default none: every lookup queries */
  cache?: Cache;
  /** The cached user record gives the tier (one cache read per request; 15 min TTL, invalidated on tier change). */
  users: UserRecords;
  /** Redis from REDIS_URL; without it counters live in memory (one instance). @default memory */
  redis?: Redis;
  registry?: Registry;
  logger: Logger;
  /** The tier table (the benchmark passes one with the same policies and out-of-reach limits). @default API_TIERS */
  tiers?: typeof API_TIERS;
  /** Prefix of the limiter's Redis keys. @default 'rl:' */
  prefix?: string;
  /** 1 / number of instances, for the memory fallback during a Redis outage. @default 1 */
  fallbackShare?: number;
  /** How long a decision waits for Redis before Redis counts as down. @default 30 */
  timeoutMs?: number;
}

/**
 * The tiered rate limiter of the API, mounted before body parsing and authentication: anonymous floods get 429 keyed
 * by IP (as the free tier), authenticated callers are keyed by location (or account) and limited by their tier.
 */
export function createApiRateLimit(options: ApiRateLimitOptions): RateLimitMiddleware {
  // Credentials are looked up only while the client address has failed lookups left (decided first, in memory);
  // forged API keys and session cookies fail their HMAC before any query, dead ones are remembered for a minute.
  const peek = principalResolver({
    sessions: createSessionStore(options.db, options.sessionSecret, { cache: options.cache }),
    apiKeys: createApiKeyStore(options.db, options.sessionSecret, { cache: options.cache }),
    cookie: sessionCookie(options.isProduction),
    failures: new CredentialFailures(),
  });
  const principalOf = (req: Request) => peek(req, req.res!);
  return tieredRateLimit({
    tiers: options.tiers ?? API_TIERS,
    redis: options.redis,
    registry: options.registry,
    prefix: options.prefix ?? 'rl:',
    fallbackShare: options.fallbackShare ?? 1,
    ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
    logger: {
      warn: (message, context) => options.logger.warn({ rateLimit: context }, `rate limit: ${message}`),
      info: (message, context) => options.logger.info({ rateLimit: context }, `rate limit: ${message}`),
    },
    upgradeUrl: '/api/subscription/checkout',
    handler: rateLimitAnswer,
    key: async (req) => {
      const p = await principalOf(req);
      if (!p) return undefined;
      return p.locationId ? `loc:${p.locationId}` : `acct:${p.accountId}`;
    },
    resolveTier: async (req) => {
      const p = await principalOf(req);
      if (!p?.locationId) return 'free';
      return (await options.users.get(p.locationId))?.tier ?? 'free';
    },
    policies: GENERAL,
  });
}
