import type { RequestHandler } from 'express';
import { rateLimitHeaders, rejectionBody, type Limiter } from '@org/tiered-rate-limit';
import { HttpError } from '../http/errors.js';

/** Charges `cost` analyses to the location's tier `analysis` policy; throws 429 (or 503 while the store is down). */
export type AnalysisBudget = (locationId: string, cost: number) => Promise<void>;

/**
 * The tier's analysis limit, charged by the routes that run analyses (`POST /analyze`, `POST /analyses/batch`,
 * `GET /locations/current/health`) once the route and its cost are known: never by matching a path string, so no
 * spelling of a path (case, trailing slash, mount alias) reaches an analysis uncharged. The key (`p:loc:<id>`) and the
 * tier record are the general middleware's (src/features/billing/rate-limit.ts); the 429 body and headers are the middleware's
 * too. Nothing is consumed when the whole cost does not fit.
 */
export function createAnalysisBudget(deps: {
  limiter: Limiter;
  /** The cached tier records (the billing feature's UserRecords). */
  users: { get(locationId: string): Promise<{ tier: string } | undefined> };
}): AnalysisBudget {
  return async (locationId, cost) => {
    const tier = (await deps.users.get(locationId))?.tier ?? 'free';
    const decision = await deps.limiter.check({
      key: `p:loc:${locationId}`,
      tier,
      policies: ['analysis'],
      cost: { analysis: cost },
    });
    if (decision.allowed) return;
    const headers = Object.fromEntries(rateLimitHeaders(decision));
    headers['Retry-After'] = String(Math.max(1, decision.retryAfterSec));
    const { status, body } = rejectionBody(deps.limiter.tiers, decision, 'json', '/api/subscription/checkout');
    const { code, message, ...details } = (
      body as { error: { code: string; message: string } & Record<string, unknown> }
    ).error;
    const text = cost > 1 && status === 429 ? `${message} This request needs ${cost} analyses.` : message;
    throw new HttpError(status, code, text, { headers, details: { ...details, cost } });
  };
}

/** Route middleware: charges `cost(req)` analyses (default 1) to the principal's location before the handler runs. */
export function chargeAnalyses(
  budget: AnalysisBudget | undefined,
  cost: (req: Parameters<RequestHandler>[0]) => number = () => 1,
): RequestHandler {
  return (req, _res, next) => {
    const locationId = req.principal?.locationId;
    if (!budget || !locationId) return next();
    budget(locationId, cost(req)).then(() => next(), next);
  };
}
