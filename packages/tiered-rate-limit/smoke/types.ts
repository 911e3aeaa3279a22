import type { Request } from 'express';
import type { FastifyRequest } from 'fastify';
import type { Context } from 'hono';
import {
  tieredRateLimit as fastifyRateLimit,
  rateLimitDecision as fastifyDecision,
  type RateLimitPlugin,
} from '@org/tiered-rate-limit/fastify';
import {
  tieredRateLimit as honoRateLimit,
  rateLimitDecision as honoDecision,
  type RateLimitMiddleware as HonoMiddleware,
} from '@org/tiered-rate-limit/hono';
import {
  createLimiter,
  defaultTiers,
  defineTiers,
  tieredRateLimit,
  createResponseRefund,
  requestWasSuccessful,
  type Decision,
  type LimitState,
  type ResponseRefund,
  type RateLimitMiddleware,
  type RateLimitOptions,
  type TierTable,
} from '@org/tiered-rate-limit';

const tiers: TierTable<'free' | 'pro'> = defineTiers({
  free: {
    policies: {
      general: { limit: 20, window: '1m' },
      analysis: { limit: 10, window: '1h', onStoreUnavailable: 'closed' },
    },
    metadata: { historyRetentionDays: 7 },
  },
  pro: {
    label: 'Pro',
    policies: { general: { limit: 100, window: 60 }, analysis: { limit: 100, window: 3600, algorithm: 'gcra' } },
  },
});

const options: RateLimitOptions = {
  tiers,
  resolveTier: (req: Request) => req.get('x-tier'),
  key: async (req: Request) => req.get('x-account'),
  policies: (req: Request) => (req.method === 'POST' ? ['general', 'analysis'] : ['general']),
  format: 'problem+json',
  fallbackShare: 0.5,
  skipSuccessfulRequests: true,
  requestWasSuccessful: (_req, res) => res.statusCode < 500,
  upgradeUrl: '/billing',
};
export const middleware: RateLimitMiddleware = tieredRateLimit(options);

export async function decide(): Promise<Decision> {
  const limiter = createLimiter({ tiers: defaultTiers(), timeoutMs: 30 });
  const decision = await limiter.check({ key: 'acct-1', tier: 'pro', policies: ['general'], cost: { general: 2 } });
  const outcome: 'allowed' | 'limited' | 'store-unavailable' = decision.outcome;
  void outcome;
  const state: LimitState = await limiter.get({ key: 'acct-1', policies: ['general'] });
  void state.policies[0]?.remaining;
  await limiter.refund({ key: 'acct-1', cost: 2, at: decision.nowMs, source: decision.source });
  await limiter.reset(middleware.limiterKey('acct-1'));
  const refund: ResponseRefund = createResponseRefund({ skipFailedRequests: true });
  refund.settle(limiter, { key: 'acct-1' }, decision, requestWasSuccessful({ statusCode: 200, finished: true }));
  await limiter.close();
  return decision;
}

export const plugin: RateLimitPlugin = fastifyRateLimit({
  tiers,
  key: (request: FastifyRequest) => request.headers['x-account'] as string | undefined,
  format: 'problem+json',
});
export const hono: HonoMiddleware = honoRateLimit({
  tiers,
  resolveTier: (c: Context) => c.req.header('x-tier'),
  clientIp: (c: Context) => c.req.header('x-real-ip'),
});
export const decisions = (request: FastifyRequest, c: Context): (Decision | undefined)[] => [
  fastifyDecision(request),
  honoDecision(c),
];
