import type { Application, NextFunction, Request, RequestHandler, Response } from 'express';
import { ipKey } from './client-ip.js';
import { InvalidOptionsError, UnsafeTrustProxyError } from './errors.js';
import { type HeaderOptions, writeRateLimitHeaders } from './headers.js';
import { type CheckInput, createLimiter, type Decision, type Limiter, type LimiterOptions, type PolicyState } from './limiter.js';
import { createResponseRefund, requestWasSuccessful as succeeded, type ResponseRefundOptions } from './response-refund.js';
import { type ErrorFormat, rejection } from './responses.js';

type MaybePromise<T> = T | Promise<T>;

/** Options of `tieredRateLimit`: the limiter's options plus how to read a request. */
export interface RateLimitOptions extends LimiterOptions, ResponseRefundOptions {
  /** The caller's tier, e.g. from the account's subscription; read on every request so upgrades apply at once. Unknown or missing = lowest tier. @default () => undefined */
  resolveTier?: (req: Request) => MaybePromise<string | undefined | null>;
  /** The authenticated principal (account, location, API key id; never the secret). Missing = keyed by client IP. @default () => undefined */
  key?: (req: Request) => MaybePromise<string | undefined | null>;
  /** Policies that apply to a request, decided together in one round trip. @default the tier table's first policy */
  policies?: readonly string[] | ((req: Request) => readonly string[]);
  /** Units this request consumes (a number for every policy, or per policy). @default each policy's `cost` */
  cost?: (req: Request) => CheckInput['cost'];
  /** Requests for which the limiter does nothing (no counting, no headers). @default () => false */
  skip?: (req: Request) => MaybePromise<boolean>;
  /** Keys never limited: principals as returned by `key`, or client IPs (as keyed, IPv6 as `<network>/56`). @default [] */
  allowlist?: readonly string[];
  /** Header families to send; `false` sends none. @default true (both) */
  headers?: boolean | HeaderOptions;
  /** Body of 429/503 answers: the `{ success: false, error }` shape, or RFC 9457 problem details. @default 'json' */
  format?: ErrorFormat;
  /** Where the 429 upgrade prompt points (the next tier up and its limit); `null` or unset sends no prompt. @default null */
  upgradeUrl?: string | null;
  /** Whether a response counts as a success for `skipSuccessfulRequests` / `skipFailedRequests`; called once the response is done. A response the client abandoned before it was sent is a failure whatever this says. @default (req, res) => res.statusCode < 400 */
  requestWasSuccessful?: (req: Request, res: Response) => MaybePromise<boolean>;
  /** Prefix length that groups IPv6 clients. @default 56 */
  ipv6Subnet?: number;
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

// Await only real promises: most key and tier functions are synchronous lookups, and each needless
// await costs a microtask turn per request.
function isPromise<T>(value: MaybePromise<T>): value is Promise<T> {
  return typeof (value as { then?: unknown } | null | undefined)?.then === 'function';
}

function check(app: { get(name: string): unknown }): void {
  if (app.get('trust proxy') === true) throw new UnsafeTrustProxyError();
}

/**
 * Express 5 middleware enforcing the tier's policies. Mount it before authentication parsing that
 * can fail, so that anonymous floods get 429 (keyed by IP) rather than endless 401s.
 */
export function tieredRateLimit(options: RateLimitOptions): RateLimitMiddleware {
  const fn = (name: string, value: unknown) => {
    if (value !== undefined && typeof value !== 'function') throw new InvalidOptionsError(name, 'must be a function');
  };
  fn('resolveTier', options?.resolveTier);
  fn('key', options?.key);
  fn('cost', options?.cost);
  fn('skip', options?.skip);
  fn('requestWasSuccessful', options?.requestWasSuccessful);
  const policies = Array.isArray(options?.policies) ? Object.freeze([...(options.policies as readonly string[])]) : options?.policies;
  if (policies !== undefined && typeof policies !== 'function' && !Array.isArray(policies)) throw new InvalidOptionsError('policies', 'must be an array of policy names or a function');
  if (Array.isArray(policies)) for (const p of policies) if (!options.tiers?.policyNames?.includes(p)) throw new InvalidOptionsError('policies', `unknown policy '${String(p)}'`);
  const format = options?.format ?? 'json';
  if (format !== 'json' && format !== 'problem+json') throw new InvalidOptionsError('format', "must be 'json' or 'problem+json'");
  const upgradeUrl = options?.upgradeUrl ?? null;
  if (upgradeUrl !== null && typeof upgradeUrl !== 'string') throw new InvalidOptionsError('upgradeUrl', 'must be a string or null');
  const subnet = options?.ipv6Subnet ?? 56;
  if (!Number.isInteger(subnet) || subnet < 1 || subnet > 128) throw new InvalidOptionsError('ipv6Subnet', 'must be an integer between 1 and 128');
  const headerOptions: HeaderOptions | false = options?.headers === false ? false : options?.headers === true || options?.headers === undefined ? {} : options.headers;
  if (options?.allowlist !== undefined && !Array.isArray(options.allowlist)) throw new InvalidOptionsError('allowlist', 'must be an array of keys');
  const allow = new Set(options?.allowlist ?? []);
  if (options?.app) check(options.app);

  const refunds = createResponseRefund(options);
  const limiter = createLimiter(options);
  const { resolveTier, key, cost, skip, requestWasSuccessful } = options;
  const checkedApps = new WeakSet<object>();

  const handler = async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    try {
      if (!checkedApps.has(req.app)) {
        check(req.app);
        checkedApps.add(req.app);
      }
      if (skip) {
        let skipped = skip(req);
        if (isPromise(skipped)) skipped = await skipped;
        if (skipped) return next();
      }
      let principal = key ? key(req) : undefined;
      if (isPromise(principal)) principal = await principal;
      const id = principal != null && principal !== '' ? principal : undefined;
      const clientIp = id === undefined ? ipKey(req.ip ?? 'unknown', subnet) : undefined;
      if (allow.size && allow.has(id ?? clientIp!)) return next();
      let tier = resolveTier ? resolveTier(req) : undefined;
      if (isPromise(tier)) tier = await tier;
      const input: CheckInput = {
        key: id !== undefined ? `p:${id}` : `ip:${clientIp}`,
        tier: tier ?? undefined,
        policies: typeof policies === 'function' ? policies(req) : policies,
        cost: cost?.(req),
      };
      const decision = await limiter.check(input);
      (res.locals as { rateLimit?: Decision }).rateLimit = decision;
      if (refunds.enabled && decision.allowed) {
        // 'close' comes for every response, sent in full or abandoned; the refund rule lives in the core.
        res.once('close', () => {
          let ok: MaybePromise<boolean> = false;
          try {
            const finished = res.writableFinished;
            ok = requestWasSuccessful ? finished && requestWasSuccessful(req, res) : succeeded({ statusCode: res.statusCode, finished });
          } catch {
            ok = false;
          }
          refunds.settle(limiter, input, decision, ok);
        });
      }
      // The headers are written straight into the response; the policy they describe is the 429's.
      let restrictive: PolicyState | undefined;
      if (headerOptions) restrictive = writeRateLimitHeaders(res, decision, headerOptions);
      else if (!decision.allowed) res.setHeader('Retry-After', String(decision.retryAfterSec));
      if (decision.allowed) return next();
      const { status, contentType, body } = rejection(limiter.tiers, decision, format, upgradeUrl, restrictive);
      res.status(status).setHeader('Content-Type', `${contentType}; charset=utf-8`);
      res.end(JSON.stringify(body));
    } catch (error) {
      next(error);
    }
  };
  const limiterKey = (principal: string | { ip: string }): string => {
    if (typeof principal === 'string' && principal !== '') return `p:${principal}`;
    if (typeof principal === 'object' && principal !== null && typeof principal.ip === 'string' && principal.ip !== '') return `ip:${ipKey(principal.ip, subnet)}`;
    throw new InvalidOptionsError('principal', 'must be a non-empty string or { ip }');
  };
  return Object.assign(handler as RequestHandler, { limiter, close: () => limiter.close(), limiterKey });
}
