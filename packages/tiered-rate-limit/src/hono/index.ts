import type { Context, MiddlewareHandler } from 'hono';
import { InvalidOptionsError } from '../errors.js';
import { createRequestLimiter } from '../request-limit.js';
import { requestWasSuccessful as succeeded } from '../response-refund.js';
import type { Decision, Limiter, RateLimited, RequestLimitOptions } from '../types.js';

/** Options of the Hono middleware: the Express middleware's, reading a Hono `Context`, plus where the client address comes from. */
export interface RateLimitOptions extends RequestLimitOptions<Context> {
  /** The client address of a request. Behind a proxy, read it from the proxy's header here. @default the socket address on @hono/node-server (`c.env.incoming`); required on other runtimes */
  clientIp?: (c: Context) => string | undefined;
  /** Whether a response counts as a success for `skipSuccessfulRequests` / `skipFailedRequests`; called once the handlers produced the response. @default (c) => c.res.status < 400 */
  requestWasSuccessful?: (c: Context) => boolean | Promise<boolean>;
  /** Answers a request that is not allowed instead of the default, returning the Response (`body` is what the library would send; the headers are already set on `c`). @default sends `body` with its status */
  handler?: (c: Context, limited: RateLimited) => Response | Promise<Response>;
}

/** The middleware, with its limiter (for direct checks) and `close()`. */
export interface RateLimitMiddleware extends MiddlewareHandler {
  readonly limiter: Limiter;
  /** Closes the limiter (timers and the dedicated Redis connection). */
  close(): Promise<void>;
  /** The limiter key for a principal (as `key` returns it) or a client IP, for `limiter.get`, `refund` and `reset`. */
  limiterKey(principal: string | { ip: string }): string;
}

/** The decision the middleware made for this request (kept in `c.var.rateLimit`). */
export function rateLimitDecision(c: Context): Decision | undefined {
  return c.get('rateLimit' as never) as Decision | undefined;
}

/** @hono/node-server puts Node's request in `c.env.incoming`. */
function socketAddress(c: Context): string | undefined {
  const incoming = (c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined)?.incoming;
  if (incoming === undefined)
    throw new InvalidOptionsError(
      'clientIp',
      'is required outside @hono/node-server (no socket address to key anonymous requests by)',
    );
  return incoming.socket?.remoteAddress;
}

/**
 * Hono 4 middleware enforcing the tier's policies: `app.use(tieredRateLimit({ tiers }))`. Without
 * `key`, requests are keyed by the socket address (never by a forwarded header unless `clientIp` says so).
 */
export function tieredRateLimit(options: RateLimitOptions): RateLimitMiddleware {
  const clientIp = options?.clientIp ?? socketAddress;
  if (typeof clientIp !== 'function') throw new InvalidOptionsError('clientIp', 'must be a function');
  const core = createRequestLimiter(options);
  const { requestWasSuccessful, handler: onLimited } = options;
  const middleware: MiddlewareHandler = async (c, next) => {
    const target = { setHeader: (name: string, value: string) => c.header(name, value) };
    const decision = await core.decide(c, clientIp(c), target);
    if (decision !== undefined) {
      c.set('rateLimit' as never, decision as never);
      if (!decision.allowed) {
        const { status, contentType, body, limited } = core.reject(decision);
        if (onLimited) return onLimited(c, limited);
        return c.body(body, status as 429, { 'Content-Type': contentType });
      }
    }
    if (decision === undefined || !core.refunds) return next();
    let finished = false;
    try {
      await next();
      finished = true;
    } finally {
      let ok: boolean | Promise<boolean> = false;
      try {
        ok = requestWasSuccessful
          ? finished && requestWasSuccessful(c)
          : succeeded({ statusCode: c.res.status, finished });
      } catch {
        ok = false;
      }
      core.settle(decision, ok);
    }
  };
  return Object.assign(middleware, { limiter: core.limiter, close: () => core.close(), limiterKey: core.limiterKey });
}
