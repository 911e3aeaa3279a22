import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CacheOptionsError } from './errors.js';
import { durationMs, MAX_NUMERIC_TTL_SECONDS } from './ttl.js';

const ttl = (v: unknown, allowLong = false) => durationMs(v, 'ttl', { allowZero: false, allowLong });

describe('durations', () => {
  it('reads seconds and strings with a unit', () => {
    expect(ttl(1.5)).toBe(1_500);
    expect(ttl('250ms')).toBe(250);
    expect(ttl('30s')).toBe(30_000);
    expect(ttl('5m')).toBe(300_000);
    expect(ttl('1h')).toBe(3_600_000);
    expect(ttl('1d')).toBe(86_400_000);
    expect(ttl('1.5h')).toBe(5_400_000);
    expect(ttl(' 2m ')).toBe(120_000);
  });

  it.each([0, -1, Number.NaN, Infinity, '0s', '5', '5 m', '5M', '1w', '-1s', '1e3s', '', null, {}, '11000d'])(
    'refuses %o',
    (value) => {
      expect(() => ttl(value)).toThrow(CacheOptionsError);
    },
  );

  it('refuses a number above 30 days unless long TTLs are allowed, and says why', () => {
    expect(ttl(MAX_NUMERIC_TTL_SECONDS)).toBe(MAX_NUMERIC_TTL_SECONDS * 1000);
    expect(() => ttl(MAX_NUMERIC_TTL_SECONDS + 1)).toThrow(/seconds, not milliseconds/);
    expect(() => ttl(86_400_000)).toThrow(/'86400s'.*allowLongTtl/);
    expect(ttl(MAX_NUMERIC_TTL_SECONDS + 1, true)).toBe((MAX_NUMERIC_TTL_SECONDS + 1) * 1000);
    expect(ttl('60d')).toBe(60 * 86_400_000);
  });

  it('stays linear on hostile strings', () => {
    const started = performance.now();
    for (const s of ['1'.repeat(100_000) + 'x', `${'9'.repeat(50_000)}.${'9'.repeat(50_000)}q`])
      expect(() => ttl(s)).toThrow(CacheOptionsError);
    expect(performance.now() - started).toBeLessThan(1_000);
  });
});

describe('the duration syntax of @org/tiered-rate-limit', () => {
  // The packages are published separately, so each keeps its own small parser; this keeps their syntax identical.
  const source = (path: string) => readFileSync(new URL(path, import.meta.url), 'utf8');
  const grammar = (text: string) => ({
    pattern: /\/\^\(\\d\+.*\$\//.exec(text)?.[0],
    type: /export type Duration = (.*);/.exec(text)?.[1],
    units: /: Record<string, number> = (\{[^}]*\})/.exec(text)?.[1],
  });

  it('accepts the same strings with the same units', () => {
    const ours = grammar(source('./ttl.ts'));
    // The limiter keeps its public types (Duration among them) in types.ts and the parser in duration.ts.
    const limiter = grammar(
      source('../../tiered-rate-limit/src/duration.ts') + source('../../tiered-rate-limit/src/types.ts'),
    );
    expect(ours.pattern).toBeDefined();
    expect(ours.type).toBeDefined();
    expect(ours.units).toBeDefined();
    expect(ours).toEqual(limiter);
  });
});
