import type { Application, NextFunction, Request, RequestHandler, Response } from 'express';
import { UnsafeTrustProxyError } from './errors.js';
import type { Decision, Limiter } from './limiter.js';
import { createRequestLimiter, type RateLimited, type RequestLimitOptions } from './request-limit.js';
import { requestWasSuccessful as succeeded } from './response-refund.js';

type MaybePromise<T> = T | Promise<T>;

/** Options of `tieredRateLimit`: the limiter's options plus how to read an Express request. */
export interface RateLimitOptions extends RequestLimitOptions<Request> {
  /** Whether a response counts as a success for `skipSuccessfulRequests` / `skipFailedRequests`; called once the response is done. A response the client abandoned before it was sent is a failure whatever this says. @default (req, res) => res.statusCode < 400 */
  requestWasSuccessful?: (req: Request, res: Response) => MaybePromise<boolean>;
  /** Answers a request that is not allowed instead of the default (`body` is what the library would send; the headers are already set). @default sends `body` with its status */
  handler?: (req: Request, res: Response, next: NextFunction, limited: RateLimited) => unknown;
  /** The Express app, to refuse `trust proxy = true` at construction (otherwise checked on the first request). @default undefined */
  app?: Application;
}

/** The middleware, with its limiter (for direct checks) and `close()`. */
export interface RateLimitMiddleware extends RequestHandler {
  readonly limiter: Limiter;
  /** Closes the limiter (timers and the dedicated Redis connection). */
  close(): Promise<void>;
  /**
   * The limiter key this middleware uses for a principal (as `key` returns it) or a client IP, for
   * `limiter.get`, `limiter.refund` and `limiter.reset`: `mw.limiter.reset(mw.limiterKey('acct_1'))`.
   */
  limiterKey(principal: string | { ip: string }): string;
}

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
              ok = requestWasSuccessful ? finished && requestWasSuccessful(req, res) : succeeded({ statusCode: res.statusCode, finished });
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
  return Object.assign(handler as RequestHandler, { limiter: core.limiter, close: () => core.close(), limiterKey: core.limiterKey });
}
