import { describe, expect, it } from 'vitest';
import { InvalidOptionsError } from './errors.js';
import { defaultTiers, defineTiers } from './tiers.js';

describe('defineTiers', () => {
  it('builds the default table: limits, windows, failure modes and retention metadata', () => {
    const t = defaultTiers();
    expect(t.names).toEqual(['free', 'pro', 'enterprise']);
    expect(t.policyNames).toEqual(['general', 'analysis']);
    const rows = t.names.map((n) => {
      const tier = t.get(n)!;
      return [
        n,
        tier.policies.get('general')!.limit,
        tier.policies.get('general')!.windowMs,
        tier.policies.get('analysis')!.limit,
        tier.policies.get('analysis')!.windowMs,
        tier.metadata.historyRetentionDays,
      ];
    });
    expect(rows).toEqual([
      ['free', 20, 60_000, 10, 3_600_000, 7],
      ['pro', 100, 60_000, 100, 3_600_000, 90],
      ['enterprise', 500, 60_000, 1000, 3_600_000, null],
    ]);
    expect(t.get('free')!.policies.get('general')!.onStoreUnavailable).toBe('fallback');
    expect(t.get('free')!.policies.get('analysis')!.onStoreUnavailable).toBe('closed');
    expect(t.get('pro')!.label).toBe('Pro');
  });

  it('resolves unknown or missing tiers to the lowest and walks the upgrade path', () => {
    const t = defaultTiers();
    expect(t.resolve(undefined).name).toBe('free');
    expect(t.resolve('platinum').name).toBe('free');
    expect(t.next(t.resolve('free'))!.name).toBe('pro');
    expect(t.next(t.resolve('enterprise'))).toBeUndefined();
  });

  it.each([
    [{}, 'tiers'],
    [{ free: { policies: {} } }, 'tiers.free.policies'],
    [{ free: { policies: { g: { limit: 0, window: 60 } } } }, 'tiers.free.policies.g.limit'],
    [{ free: { policies: { g: { limit: 1.5, window: 60 } } } }, 'tiers.free.policies.g.limit'],
    [{ free: { policies: { g: { limit: 1, window: '1 minute' } } } }, 'tiers.free.policies.g.window'],
    [{ free: { policies: { g: { limit: 1, window: '1500ms' } } } }, 'tiers.free.policies.g.window'],
    [{ free: { policies: { g: { limit: 1, window: 60, algorithm: 'leaky' } } } }, 'tiers.free.policies.g.algorithm'],
    [
      { free: { policies: { g: { limit: 1, window: 60, onStoreUnavailable: 'maybe' } } } },
      'tiers.free.policies.g.onStoreUnavailable',
    ],
    [{ free: { policies: { g: { limit: 1, window: 60, cost: -1 } } } }, 'tiers.free.policies.g.cost'],
    [
      { free: { policies: { g: { limit: 1, window: 60 } } }, pro: { policies: { h: { limit: 1, window: 60 } } } },
      'tiers.pro.policies',
    ],
    [{ 'bad name': { policies: { g: { limit: 1, window: 60 } } } }, 'tiers.bad name'],
  ])('rejects %j with an InvalidOptionsError naming %s', (definition, path) => {
    try {
      defineTiers(definition as never);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(InvalidOptionsError);
      expect((error as InvalidOptionsError).code).toBe('RATE_LIMIT_INVALID_OPTIONS');
      expect((error as InvalidOptionsError).path).toBe(path);
    }
  });

  it('accepts durations as seconds or with a unit', () => {
    const t = defineTiers({
      a: {
        policies: {
          x: { limit: 1, window: 90 },
          y: { limit: 1, window: '2h' },
          z: { limit: 1, window: '1d', blockDuration: '15m' },
        },
      },
    });
    const a = t.get('a')!;
    expect([
      a.policies.get('x')!.windowMs,
      a.policies.get('y')!.windowMs,
      a.policies.get('z')!.windowMs,
      a.policies.get('z')!.blockMs,
    ]).toEqual([90_000, 7_200_000, 86_400_000, 900_000]);
  });
});
