import { ipKey } from './client-ip.js';
import { InvalidOptionsError } from './errors.js';
import { type HeaderTarget, writeRateLimitHeaders } from './headers.js';
import { createLimiter } from './limiter.js';
import { createResponseRefund } from './response-refund.js';
import { rejection } from './responses.js';
import type {
  CheckInput,
  Decision,
  HeaderOptions,
  Limiter,
  MaybePromise,
  RateLimitBody,
  RateLimited,
  RequestLimitOptions,
} from './types.js';

/** A rejected request's answer: status, the full Content-Type and the serialized body. */
export interface Rejection {
  readonly status: number;
  readonly contentType: string;
  readonly body: string;
  /** What a `handler` receives: the decision and the default body (not serialized). */
  readonly limited: RateLimited;
}

/** The framework-independent half of every binding: validated options, the limiter, and one decision per request. */
export interface RequestLimiter<Req> {
  readonly limiter: Limiter;
  /**
   * Decides `req` and writes its headers into `target`. Resolves to undefined when the request is skipped
   * or allowlisted (nothing counted, no headers); rejects only for programming errors (unknown policy,
   * bad cost), never for store failures (those are decisions with outcome `store-unavailable`).
   */
  decide(req: Req, clientIp: string | undefined, target: HeaderTarget): Promise<Decision | undefined>;
  /** The 429 or 503 answer of a decision that was not allowed; a binding with a `handler` passes `limited` to it instead of sending. */
  reject(decision: Decision): Rejection;
  /** Whether `skipSuccessfulRequests` or `skipFailedRequests` is on: then the binding calls `settle` once each admitted response is done. */
  readonly refunds: boolean;
  /** Gives back what an admitted request took when its success (as the binding judged the finished response) is one the options skip. */
  settle(decision: Decision, successful: boolean | Promise<boolean>): void;
  /** The limiter key for a principal (as `key` returns it) or a client IP, for `limiter.get`, `refund` and `reset`. */
  limiterKey(principal: string | { ip: string }): string;
  close(): Promise<void>;
}

// Await only real promises: most key and tier functions are synchronous lookups, and each needless
// await costs a microtask turn per request.
function isPromise<T>(value: MaybePromise<T>): value is Promise<T> {
  return typeof (value as { then?: unknown } | null | undefined)?.then === 'function';
}

/** Validates the request-level options (throwing InvalidOptionsError) and creates the limiter. */
export function createRequestLimiter<Req>(options: RequestLimitOptions<Req>): RequestLimiter<Req> {
  const fn = (name: string, value: unknown) => {
    if (value !== undefined && typeof value !== 'function') throw new InvalidOptionsError(name, 'must be a function');
  };
  fn('resolveTier', options?.resolveTier);
  fn('key', options?.key);
  fn('cost', options?.cost);
  fn('skip', options?.skip);
  // Each binding reads responses its own way; the option is validated here for all of them.
  fn('requestWasSuccessful', (options as { requestWasSuccessful?: unknown } | undefined)?.requestWasSuccessful);
  fn('handler', (options as { handler?: unknown } | undefined)?.handler);
  const policies = Array.isArray(options?.policies)
    ? Object.freeze([...(options.policies as readonly string[])])
    : options?.policies;
  if (policies !== undefined && typeof policies !== 'function' && !Array.isArray(policies))
    throw new InvalidOptionsError('policies', 'must be an array of policy names or a function');
  if (Array.isArray(policies))
    for (const p of policies)
      if (!options.tiers?.policyNames?.includes(p))
        throw new InvalidOptionsError('policies', `unknown policy '${String(p)}'`);
  const format = options?.format ?? 'json';
  if (format !== 'json' && format !== 'problem+json')
    throw new InvalidOptionsError('format', "must be 'json' or 'problem+json'");
  const upgradeUrl = options?.upgradeUrl ?? null;
  if (upgradeUrl !== null && typeof upgradeUrl !== 'string')
    throw new InvalidOptionsError('upgradeUrl', 'must be a string or null');
  const subnet = options?.ipv6Subnet ?? 56;
  if (!Number.isInteger(subnet) || subnet < 1 || subnet > 128)
    throw new InvalidOptionsError('ipv6Subnet', 'must be an integer between 1 and 128');
  const headerOptions: HeaderOptions | false =
    options?.headers === false
      ? false
      : options?.headers === true || options?.headers === undefined
        ? {}
        : options.headers;
  if (options?.allowlist !== undefined && !Array.isArray(options.allowlist))
    throw new InvalidOptionsError('allowlist', 'must be an array of keys');
  const allow = new Set(options?.allowlist ?? []);

  const refunds = createResponseRefund(options);
  const limiter = createLimiter(options);
  const { resolveTier, key, cost, skip } = options;
  const restrictive = new WeakMap<Decision, ReturnType<typeof writeRateLimitHeaders>>();
  // The check input of admitted decisions that may be refunded (only kept when a refund option is on).
  const inputs = new WeakMap<Decision, CheckInput>();

  return {
    limiter,
    async decide(req, clientIp, target) {
      if (skip) {
        let skipped = skip(req);
        if (isPromise(skipped)) skipped = await skipped;
        if (skipped) return undefined;
      }
      let principal = key ? key(req) : undefined;
      if (isPromise(principal)) principal = await principal;
      const id = principal != null && principal !== '' ? principal : undefined;
      const ip = id === undefined ? ipKey(clientIp ?? 'unknown', subnet) : undefined;
      if (allow.size && allow.has(id ?? ip!)) return undefined;
      let tier = resolveTier ? resolveTier(req) : undefined;
      if (isPromise(tier)) tier = await tier;
      const input: CheckInput = {
        key: id !== undefined ? `p:${id}` : `ip:${ip}`,
        tier: tier ?? undefined,
        policies: typeof policies === 'function' ? policies(req) : policies,
        cost: cost?.(req),
      };
      const decision = await limiter.check(input);
      if (refunds.enabled && decision.allowed) inputs.set(decision, input);
      // The headers are written straight into the response; the policy they describe is the 429's.
      if (headerOptions) {
        const described = writeRateLimitHeaders(target, decision, headerOptions);
        if (!decision.allowed && described) restrictive.set(decision, described);
      } else if (!decision.allowed) target.setHeader('Retry-After', String(decision.retryAfterSec));
      return decision;
    },
    reject(decision) {
      const r = rejection(limiter.tiers, decision, format, upgradeUrl, restrictive.get(decision));
      return {
        status: r.status,
        contentType: `${r.contentType}; charset=utf-8`,
        body: JSON.stringify(r.body),
        limited: { decision, status: r.status as 429 | 503, body: r.body as RateLimitBody },
      };
    },
    refunds: refunds.enabled,
    settle(decision, successful) {
      const input = inputs.get(decision);
      if (input) refunds.settle(limiter, input, decision, successful);
    },
    limiterKey(principal) {
      if (typeof principal === 'string' && principal !== '') return `p:${principal}`;
      if (
        typeof principal === 'object' &&
        principal !== null &&
        typeof principal.ip === 'string' &&
        principal.ip !== ''
      )
        return `ip:${ipKey(principal.ip, subnet)}`;
      throw new InvalidOptionsError('principal', 'must be a non-empty string or { ip }');
    },
    close: () => limiter.close(),
  };
}
