import { describe, expect, it } from 'vitest';
import { InvalidOptionsError, UnknownTierError } from './errors.js';
import { createLimiter } from './limiter.js';
import { defaultTiers } from './tiers.js';

describe('createLimiter (memory only)', () => {
  it.each([
    [{ tiers: undefined }, 'tiers'],
    [{ timeoutMs: 0 }, 'timeoutMs'],
    [{ fallbackShare: 0 }, 'fallbackShare'],
    [{ fallbackShare: 1.5 }, 'fallbackShare'],
    [{ maxMemoryKeys: 1.5 }, 'maxMemoryKeys'],
    [{ prefix: 'a{b}' }, 'prefix'],
    [{ connection: 'pooled' }, 'connection'],
    [{ redis: {} }, 'redis'],
    [{ logger: {} }, 'logger'],
    [{ registry: {} }, 'registry'],
  ])('rejects %j with a coded error naming %s', (bad, path) => {
    expect(() => createLimiter({ tiers: defaultTiers(), ...(bad as object) } as never)).toThrow(
      expect.objectContaining({ code: 'RATE_LIMIT_INVALID_OPTIONS', path }),
    );
  });

  it('decides in memory when no Redis is given, per tier, with cost and without overdraft', async () => {
    const limiter = createLimiter({ tiers: defaultTiers() });
    try {
      const a = await limiter.check({ key: 'k', policies: ['general', 'analysis'], cost: { analysis: 4 } });
      expect(a.source).toBe('memory');
      expect(a.policies.map((p) => p.remaining)).toEqual([19, 6]);
      await limiter.check({ key: 'k', policies: ['general', 'analysis'], cost: { analysis: 4 } });
      const over = await limiter.check({ key: 'k', policies: ['general', 'analysis'], cost: { analysis: 4 } });
      expect(over.outcome).toBe('limited');
      expect(over.violated.map((v) => v.policy)).toEqual(['analysis']);
      expect(over.policies.map((p) => p.remaining)).toEqual([18, 2]);
      const small = await limiter.check({ key: 'k', policies: ['general', 'analysis'], cost: { analysis: 2 } });
      expect(small.allowed).toBe(true);
    } finally {
      await limiter.close();
    }
  });

  it('throws typed errors for unknown policies and bad costs', async () => {
    const limiter = createLimiter({ tiers: defaultTiers() });
    try {
      await expect(limiter.check({ key: 'k', policies: ['nope'] })).rejects.toBeInstanceOf(UnknownTierError);
      await expect(limiter.check({ key: 'k', cost: -1 })).rejects.toBeInstanceOf(InvalidOptionsError);
      await expect(limiter.check({ key: '' })).rejects.toBeInstanceOf(InvalidOptionsError);
    } finally {
      await limiter.close();
    }
  });
});
