import { describe, expect, it } from 'vitest';
import { createCache } from './cache.js';
import { CacheOptionsError } from './errors.js';
import { DEFAULTS, resolveOptions } from './options.js';
import { CacheTTL } from './ttl.js';

describe('options', () => {
  it('applies the documented defaults', () => {
    const o = resolveOptions({});
    expect(o.mode).toBe('memory');
    expect(o.operationTimeoutMs).toBe(50);
    expect(o.defaultTtlMs).toBe(CacheTTL.MEDIUM * 1000);
    expect(o.maxEntries).toBe(DEFAULTS.maxEntries);
    expect(resolveOptions({ redis: 'redis://x:1' }).mode).toBe('fallback');
    // No hidden item cap when only a byte budget is given.
    expect(resolveOptions({ maxBytes: 1_000_000 }).maxEntries).toBe(Infinity);
  });

  it.each([
    [{ operationTimeoutMs: 0 }, 'operationTimeoutMs'],
    [{ ttlJitter: 2 }, 'ttlJitter'],
    [{ mode: 'turbo' }, 'mode'],
    [{ redis: 'http://x' }, 'redis'],
    [{ redis: {} }, 'redis'],
    [{ prefix: 'a{b}' }, 'prefix'],
    [{ maxEntries: 1.5 }, 'maxEntries'],
    [{ softTimeoutMs: 100, hardTimeoutMs: 50 }, 'softTimeoutMs'],
    [{ registry: {} }, 'registry'],
    [{ unknownThing: 1 }, 'unknownThing'],
  ])('rejects %o at construction', (options, field) => {
    expect(() => createCache(options as never)).toThrow(CacheOptionsError);
    expect(() => createCache(options as never)).toThrow(field);
  });

  it('exposes the named TTLs in seconds', () => {
    expect(CacheTTL).toEqual({ SHORT: 60, MEDIUM: 300, LONG: 1800, WORKFLOW: 600, ANALYSIS: 3600, USER: 900 });
  });
});
