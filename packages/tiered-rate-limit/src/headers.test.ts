import { parseList } from 'structured-headers';
import { describe, expect, it } from 'vitest';
import { mostRestrictive, rateLimitHeaders, writeRateLimitHeaders } from './headers.js';
import { rejection, rejectionBody } from './responses.js';
import { defaultTiers } from './tiers.js';
import type { Decision, PolicyState } from './types.js';

const tiers = defaultTiers();
const state = (
  policy: string,
  limit: number,
  windowSec: number,
  remaining: number,
  resetMs: number,
  limited = false,
): PolicyState => ({
  policy,
  algorithm: 'fixed-window',
  limit,
  windowSec,
  remaining,
  resetMs,
  retryAfterMs: limited ? resetMs : 0,
  limited,
});
const decision = (policies: PolicyState[], tier = 'free'): Decision => {
  const violated = policies.filter((p) => p.limited);
  return {
    allowed: violated.length === 0,
    outcome: violated.length ? 'limited' : 'allowed',
    source: 'redis',
    tier: tiers.resolve(tier),
    key: 'k',
    policies,
    violated,
    nowMs: 1_795_651_380_400,
    retryAfterSec: violated.length ? Math.ceil(Math.max(...violated.map((v) => v.retryAfterMs)) / 1000) : 0,
  };
};

describe('rateLimitHeaders', () => {
  it("emits the issue's example: draft-11 lists of every policy and X-RateLimit-* of the most restrictive one", () => {
    const h = Object.fromEntries(
      rateLimitHeaders(decision([state('general', 20, 60, 17, 41_200), state('analysis', 10, 3600, 3, 1_259_100)])),
    );
    expect(h).toEqual({
      'X-RateLimit-Tier': 'free',
      'RateLimit-Policy': '"general";q=20;w=60, "analysis";q=10;w=3600',
      RateLimit: '"general";r=17;t=42, "analysis";r=3;t=1260',
      'X-RateLimit-Limit': '10',
      'X-RateLimit-Window': '3600',
      'X-RateLimit-Remaining': '3',
      'X-RateLimit-Reset': String(1_795_651_380 + 1260),
    });
    expect(parseList(h['RateLimit-Policy']!)).toHaveLength(2);
    expect(parseList(h.RateLimit!)).toHaveLength(2);
  });

  it('on 429: Retry-After, the violated policy and X-RateLimit-Reset agree to the second', () => {
    const d = decision([state('general', 20, 60, 17, 41_200), state('analysis', 10, 3600, 0, 1_259_100, true)]);
    const h = Object.fromEntries(rateLimitHeaders(d));
    expect(h['Retry-After']).toBe('1260');
    expect(Number(h['X-RateLimit-Reset']) - Math.floor(d.nowMs / 1000)).toBe(1260);
    expect(h.RateLimit).toContain('"analysis";r=0;t=1260');
  });

  it('can emit one family only', () => {
    const d = decision([state('general', 20, 60, 17, 41_200)]);
    expect(rateLimitHeaders(d, { legacy: false }).map(([n]) => n)).toEqual([
      'X-RateLimit-Tier',
      'RateLimit-Policy',
      'RateLimit',
    ]);
    expect(rateLimitHeaders(d, { standard: false }).map(([n]) => n)).toEqual([
      'X-RateLimit-Tier',
      'X-RateLimit-Limit',
      'X-RateLimit-Window',
      'X-RateLimit-Remaining',
      'X-RateLimit-Reset',
    ]);
  });

  it('writeRateLimitHeaders sets, in order, exactly what rateLimitHeaders lists, and returns the policy X-RateLimit-* describe', () => {
    const allowed = decision([state('general', 20, 60, 17, 41_200), state('analysis', 10, 3600, 3, 1_259_100)]);
    const limited = decision([state('general', 20, 60, 17, 41_200), state('analysis', 10, 3600, 0, 1_259_100, true)]);
    const unavailable: Decision = {
      ...limited,
      allowed: false,
      outcome: 'store-unavailable',
      source: 'none',
      policies: [],
      violated: [],
      retryAfterSec: 1,
    };
    for (const d of [allowed, limited, unavailable]) {
      for (const options of [{}, { legacy: false }, { standard: false }, { legacy: false, standard: false }]) {
        const written: [string, string][] = [];
        const returned = writeRateLimitHeaders({ setHeader: (name, value) => written.push([name, value]) }, d, options);
        expect(written).toEqual(rateLimitHeaders(d, options));
        expect(returned).toBe(options.legacy === false || d.policies.length === 0 ? undefined : mostRestrictive(d));
      }
    }
    expect(writeRateLimitHeaders({ setHeader: () => {} }, limited, {})!.policy).toBe('analysis');
  });
});

describe('rejectionBody', () => {
  it("is the issue's body for the free tier, and has no upgrade prompt on the highest tier", () => {
    const free = rejectionBody(
      tiers,
      decision([state('general', 20, 60, 0, 60_000, true)]),
      'json',
      '/api/subscription/checkout',
    );
    expect(free.status).toBe(429);
    expect(JSON.stringify(free.body)).toBe(
      '{"success":false,"error":{"message":"Free tier rate limit exceeded. Upgrade to Pro for higher limits.","code":"RATE_LIMIT_EXCEEDED","retryAfter":60,"currentTier":"free","upgradeUrl":"/api/subscription/checkout","limits":{"current":20,"pro":100}}}',
    );
    const top = rejectionBody(
      tiers,
      decision([state('general', 500, 60, 0, 5_000, true)], 'enterprise'),
      'json',
      '/api/subscription/checkout',
    );
    expect(top.body).toEqual({
      success: false,
      error: {
        message: 'Enterprise tier rate limit exceeded.',
        code: 'RATE_LIMIT_EXCEEDED',
        retryAfter: 5,
        currentTier: 'enterprise',
        limits: { current: 500 },
      },
    });
  });

  it('upgradeUrl null: no prompt, no next-tier limit, no upgrade member, in either format', () => {
    const d = decision([state('general', 20, 60, 0, 60_000, true)]);
    expect(rejectionBody(tiers, d, 'json', null).body).toEqual({
      success: false,
      error: {
        message: 'Free tier rate limit exceeded.',
        code: 'RATE_LIMIT_EXCEEDED',
        retryAfter: 60,
        currentTier: 'free',
        limits: { current: 20 },
      },
    });
    expect(rejectionBody(tiers, d, 'problem+json', null).body).toEqual({
      type: 'https://iana.org/assignments/http-problem-types#quota-exceeded',
      title: 'Rate limit exceeded',
      status: 429,
      detail: 'Free tier rate limit exceeded.',
      'violated-policies': ['general'],
      tier: 'free',
      retryAfter: 60,
    });
    expect(rejectionBody(tiers, d, 'problem+json', '/up').body).toMatchObject({
      detail: 'Free tier rate limit exceeded. Upgrade to Pro for higher limits.',
      upgrade: { tier: 'pro', limit: 100, url: '/up' },
    });
    // The tier table is not consulted without an upgrade URL.
    const untouchable = new Proxy(tiers, {
      get: (target, prop, receiver) => {
        if (prop === 'next') throw new Error('tiers.next called');
        return Reflect.get(target, prop, receiver);
      },
    });
    expect(() => rejectionBody(untouchable, d, 'json', null)).not.toThrow();
    expect(() => rejectionBody(untouchable, d, 'json', '/up')).toThrow('tiers.next called');
  });

  it('rejection() with the policy the headers described is rejectionBody(); without one it finds it itself', () => {
    const d = decision([state('general', 20, 60, 0, 41_200, true), state('analysis', 10, 3600, 0, 1_259_100, true)]);
    for (const format of ['json', 'problem+json'] as const) {
      const expected = rejectionBody(tiers, d, format, '/up');
      expect(rejection(tiers, d, format, '/up', mostRestrictive(d))).toEqual(expected);
      expect(rejection(tiers, d, format, '/up', undefined)).toEqual(expected);
    }
    expect(rejectionBody(tiers, d, 'json', '/up').body).toMatchObject({
      error: { limits: { current: 10, pro: 100 }, retryAfter: 1260 },
    });
  });
});
