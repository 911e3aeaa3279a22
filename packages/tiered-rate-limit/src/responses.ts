import { mostRestrictive } from './headers.js';
import type {
  Decision,
  ErrorFormat,
  PolicyState,
  RateLimitExceededBody,
  RateLimitUnavailableBody,
  TierTable,
} from './types.js';

/** The next tier up whose limit of `policy` is higher, i.e. the one worth upgrading to, and where to upgrade. */
function upgradeFor(tiers: TierTable, decision: Decision, policy: string, url: string) {
  const current = decision.tier.policies.get(policy)!.limit;
  for (let t = tiers.next(decision.tier); t; t = tiers.next(t)) {
    const limit = t.policies.get(policy)!.limit;
    if (limit > current) return { tier: t, limit, url };
  }
  return undefined;
}

/** Status, content type and body for a rejected decision. */
export function rejectionBody(
  tiers: TierTable,
  decision: Decision,
  format: ErrorFormat,
  upgradeUrl: string | null,
): { status: number; contentType: string; body: unknown } {
  return rejection(tiers, decision, format, upgradeUrl, undefined);
}

/**
 * `rejectionBody`, for a caller that already knows the decision's most restrictive policy (the
 * middleware, from writing the X-RateLimit-* headers): `restrictive` is computed only when undefined.
 */
export function rejection(
  tiers: TierTable,
  decision: Decision,
  format: ErrorFormat,
  upgradeUrl: string | null,
  restrictive: PolicyState | undefined,
): { status: number; contentType: string; body: unknown } {
  const retryAfter = decision.retryAfterSec;
  if (decision.outcome === 'store-unavailable') {
    const message = 'Rate limiting is temporarily unavailable. Retry shortly.';
    if (format === 'problem+json') {
      return {
        status: 503,
        contentType: 'application/problem+json',
        body: {
          type: 'https://iana.org/assignments/http-problem-types#temporary-reduced-capacity',
          title: 'Temporary reduced capacity',
          status: 503,
          detail: message,
          retryAfter,
        },
      };
    }
    const body: RateLimitUnavailableBody = {
      success: false,
      error: { message, code: 'RATE_LIMIT_UNAVAILABLE', retryAfter, currentTier: decision.tier.name },
    };
    return { status: 503, contentType: 'application/json', body };
  }
  const violated = restrictive ?? mostRestrictive(decision)!;
  // No upgrade prompt at all when upgradeUrl is null: the tiers are not even looked at.
  const up = upgradeUrl === null ? undefined : upgradeFor(tiers, decision, violated.policy, upgradeUrl);
  const label = decision.tier.label;
  const message = up
    ? `${label} tier rate limit exceeded. Upgrade to ${up.tier.label} for higher limits.`
    : `${label} tier rate limit exceeded.`;
  const configured = decision.tier.policies.get(violated.policy)!.limit;
  if (format === 'problem+json') {
    return {
      status: 429,
      contentType: 'application/problem+json',
      body: {
        type: 'https://iana.org/assignments/http-problem-types#quota-exceeded',
        title: 'Rate limit exceeded',
        status: 429,
        detail: message,
        'violated-policies': decision.violated.map((v) => v.policy),
        tier: decision.tier.name,
        retryAfter,
        ...(up ? { upgrade: { tier: up.tier.name, limit: up.limit, url: up.url } } : {}),
      },
    };
  }
  const limits: Record<string, number> = { current: configured };
  if (up) limits[up.tier.name] = up.limit;
  const body: RateLimitExceededBody = {
    success: false,
    error: {
      message,
      code: 'RATE_LIMIT_EXCEEDED',
      retryAfter,
      currentTier: decision.tier.name,
      ...(up ? { upgradeUrl: up.url } : {}),
      limits,
    },
  };
  return { status: 429, contentType: 'application/json', body };
}
