import { describe, expect, it } from 'vitest';
import { API_TIERS } from './rate-limit.js';
import { effectiveTier, isEntitled, retentionDays, retentionDaysSql, TIER_NAMES, TIERS } from './tiers.js';

describe('tiers', () => {
  const now = new Date('2026-01-10T00:00:00Z');
  it('grants the price tier for active and trialing, keeps it for past_due during the grace, never for the rest', () => {
    expect(effectiveTier('pro', 'active', null, now)).toBe('pro');
    expect(effectiveTier('enterprise', 'trialing', null, now)).toBe('enterprise');
    expect(effectiveTier('pro', 'past_due', new Date('2026-01-11T00:00:00Z'), now)).toBe('pro');
    expect(effectiveTier('pro', 'past_due', new Date('2026-01-09T23:59:59Z'), now)).toBe('free');
    expect(effectiveTier('pro', 'past_due', null, now)).toBe('free');
    for (const status of ['canceled', 'unpaid', 'incomplete', 'incomplete_expired', 'paused', 'none', 'bogus']) {
      expect(isEntitled(status, new Date('2030-01-01'), now)).toBe(false);
      expect(effectiveTier('enterprise', status, new Date('2030-01-01'), now)).toBe('free');
    }
    expect(effectiveTier('platinum', 'active', null, now)).toBe('free');
  });

  it('retention: 7 days, 90 days, unlimited; unknown tiers get the free retention; the SQL mapping is generated from the same table', () => {
    expect([retentionDays('free'), retentionDays('pro'), retentionDays('enterprise'), retentionDays('gold')]).toEqual([
      7,
      90,
      null,
      7,
    ]);
    expect(retentionDaysSql('x')).toBe("(CASE x WHEN 'pro' THEN 90 WHEN 'enterprise' THEN NULL::int ELSE 7 END)");
  });

  it("is the rate limiter's tier table (API_TIERS is derived from TIERS)", () => {
    const table = API_TIERS;
    expect(table.names).toEqual(TIER_NAMES);
    for (const name of TIER_NAMES) {
      const tier = table.get(name)!;
      expect(tier.policies.get('general')!.limit).toBe(TIERS[name].requestsPerMinute);
      expect(tier.policies.get('analysis')!.limit).toBe(TIERS[name].analysesPerHour);
      expect(tier.metadata.historyRetentionDays).toBe(TIERS[name].retentionDays);
    }
  });
});
