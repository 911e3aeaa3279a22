import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { UnsafeTrustProxyError } from './errors.js';
import { createRequestLimiter } from './request-limit.js';
import { requestWasSuccessful as succeeded } from './response-refund.js';
import type { Decision, MaybePromise, RateLimitMiddleware, RateLimitOptions } from './types.js';

/** The decision the middleware made for this response (kept in `res.locals.rateLimit`). */
export function rateLimitDecision(res: Response): Decision | undefined {
  return (res.locals as { rateLimit?: Decision }).rateLimit;
}

function check(app: { get(name: string): unknown }): void {
  if (app.get('trust proxy') === true) throw new UnsafeTrustProxyError();
}

/**
 * Express middleware (Express 5 and 4) enforcing the tier's policies. Mount it before authentication
 * parsing that can fail, so that anonymous floods get 429 (keyed by IP) rather than endless 401s.
 */
export function tieredRateLimit(options: RateLimitOptions): RateLimitMiddleware {
  if (options?.app) check(options.app);
  const core = createRequestLimiter(options);
  const { requestWasSuccessful, handler: onLimited } = options;
  const checkedApps = new WeakSet<object>();

  const handler = async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    try {
      if (!checkedApps.has(req.app)) {
        check(req.app);
        checkedApps.add(req.app);
      }
      const decision = await core.decide(req, req.ip, res);
      if (decision === undefined) return next();
      (res.locals as { rateLimit?: Decision }).rateLimit = decision;
      if (decision.allowed) {
        if (core.refunds) {
          // 'close' comes for every response, sent in full or abandoned; the refund rule lives in the core.
          res.once('close', () => {
            let ok: MaybePromise<boolean> = false;
            try {
              const finished = res.writableFinished;
              ok = requestWasSuccessful
                ? finished && requestWasSuccessful(req, res)
                : succeeded({ statusCode: res.statusCode, finished });
            } catch {
              ok = false;
            }
            core.settle(decision, ok);
          });
        }
        return next();
      }
      const { status, contentType, body, limited } = core.reject(decision);
      if (onLimited) return void (await onLimited(req, res, next, limited));
      res.status(status).setHeader('Content-Type', contentType);
      res.end(body);
    } catch (error) {
      next(error);
    }
  };
  return Object.assign(handler as RequestHandler, {
    limiter: core.limiter,
    close: () => core.close(),
    limiterKey: core.limiterKey,
  });
}
