import type { Limiter } from '@org/tiered-rate-limit';
import type { UserRecords } from '../cache/user-record.js';
import { HttpError } from '../http/errors.js';

/** Charges `cost` analyses to the location's tier `analysis` policy; throws 429 (or 503 while the store is down). */
export type AnalysisBudget = (locationId: string, cost: number) => Promise<void>;

/**
 * The tier's analysis limit for requests whose cost is only known after the body is read (a batch of N workflows
 * costs N): the same limiter, key (`p:loc:<id>`, the middleware's principal key) and tier record as the middleware in src/http/rate-limit.ts, so the
 * batch items and single analyses share one budget. Nothing is consumed when the whole batch does not fit.
 */
export function createAnalysisBudget(deps: { limiter: Limiter; users: UserRecords }): AnalysisBudget {
  return async (locationId, cost) => {
    const tier = (await deps.users.get(locationId))?.tier ?? 'free';
    const decision = await deps.limiter.check({ key: `p:loc:${locationId}`, tier, policies: ['analysis'], cost: { analysis: cost } });
    if (decision.allowed) return;
    const retryAfter = String(Math.max(1, decision.retryAfterSec));
    if (decision.outcome === 'store-unavailable') {
      throw new HttpError(503, 'RATE_LIMIT_STORE_UNAVAILABLE', 'The analysis limit cannot be checked right now; try again shortly', { headers: { 'Retry-After': retryAfter } });
    }
    const policy = decision.violated[0];
    throw new HttpError(429, 'RATE_LIMIT_EXCEEDED', `This batch needs ${cost} analyses; the ${tier} tier has ${policy?.remaining ?? 0} left in this window`, {
      headers: { 'Retry-After': retryAfter },
      details: { retryAfter: Number(retryAfter), currentTier: tier, limits: { current: policy?.limit ?? null }, cost },
    });
  };
}
