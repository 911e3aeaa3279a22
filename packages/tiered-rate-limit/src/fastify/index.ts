import type { FastifyInstance, FastifyPluginCallback, FastifyReply, FastifyRequest } from 'fastify';
import { UnsafeTrustProxyError } from '../errors.js';
import { createRequestLimiter } from '../request-limit.js';
import { requestWasSuccessful as succeeded } from '../response-refund.js';
import type { Decision, Limiter, RateLimited, RequestLimitOptions } from '../types.js';

/** Options of the Fastify plugin: the same as the Express middleware's, reading a `FastifyRequest`. */
export interface RateLimitOptions extends RequestLimitOptions<FastifyRequest> {
  /** Whether a response counts as a success for `skipSuccessfulRequests` / `skipFailedRequests`; called once the response is done. A response the client abandoned before it was sent is a failure whatever this says. @default (request, reply) => reply.statusCode < 400 */
  requestWasSuccessful?: (request: FastifyRequest, reply: FastifyReply) => boolean | Promise<boolean>;
  /** Answers a request that is not allowed instead of the default, by sending on `reply` (`body` is what the library would send; the headers are already set). @default sends `body` with its status */
  handler?: (request: FastifyRequest, reply: FastifyReply, limited: RateLimited) => unknown;
}

/** The plugin, with its limiter (for direct checks) and `close()` (also called by `fastify.close()`). */
export interface RateLimitPlugin extends FastifyPluginCallback {
  readonly limiter: Limiter;
  /** Closes the limiter (timers and the dedicated Redis connection). */
  close(): Promise<void>;
  /** The limiter key for a principal (as `key` returns it) or a client IP, for `limiter.get`, `refund` and `reset`. */
  limiterKey(principal: string | { ip: string }): string;
}

const DECISION = Symbol('@org/tiered-rate-limit.decision');
type WithDecision = { [DECISION]?: Decision };

/** The decision the plugin made for this request. */
export function rateLimitDecision(request: FastifyRequest): Decision | undefined {
  return (request as WithDecision)[DECISION];
}

// Fastify keeps its server options under a private symbol; `trustProxy: true` trusts every X-Forwarded-For.
function trustsEveryProxy(fastify: FastifyInstance): boolean {
  const key = Object.getOwnPropertySymbols(fastify).find((s) => s.description === 'fastify.options');
  return (
    key !== undefined &&
    (fastify as unknown as Record<symbol, { trustProxy?: unknown } | undefined>)[key]?.trustProxy === true
  );
}

/**
 * Fastify 5 plugin enforcing the tier's policies in an `onRequest` hook on every route of the instance
 * it is registered on (and the not-found handler): `await app.register(tieredRateLimit({ tiers }))`.
 */
export function tieredRateLimit(options: RateLimitOptions): RateLimitPlugin {
  const core = createRequestLimiter(options);
  const { requestWasSuccessful, handler: onLimited } = options;
  const plugin = (fastify: FastifyInstance, _opts: unknown, done: (err?: Error) => void): void => {
    if (trustsEveryProxy(fastify)) return done(new UnsafeTrustProxyError("Fastify 'trustProxy'"));
    fastify.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
      const target = { setHeader: (name: string, value: string) => reply.header(name, value) };
      const decision = await core.decide(request, request.ip, target);
      if (decision === undefined) return;
      (request as WithDecision)[DECISION] = decision;
      if (decision.allowed) {
        if (core.refunds) {
          // Node's 'close' comes for every response, sent in full or abandoned.
          const res = reply.raw;
          res.once('close', () => {
            let ok: boolean | Promise<boolean> = false;
            try {
              const finished = res.writableFinished;
              ok = requestWasSuccessful
                ? finished && requestWasSuccessful(request, reply)
                : succeeded({ statusCode: res.statusCode, finished });
            } catch {
              ok = false;
            }
            core.settle(decision, ok);
          });
        }
        return;
      }
      const { status, contentType, body, limited } = core.reject(decision);
      if (onLimited) {
        await onLimited(request, reply, limited);
        return reply;
      }
      return reply.code(status).header('Content-Type', contentType).send(body);
    });
    fastify.addHook('onClose', async () => core.close());
    done();
  };
  // Registered hooks apply to the parent instance, like fastify-plugin's `skip-override`.
  Object.defineProperty(plugin, Symbol.for('skip-override'), { value: true });
  Object.defineProperty(plugin, Symbol.for('fastify.display-name'), { value: '@org/tiered-rate-limit' });
  return Object.assign(plugin as FastifyPluginCallback, {
    limiter: core.limiter,
    close: () => core.close(),
    limiterKey: core.limiterKey,
  });
}
