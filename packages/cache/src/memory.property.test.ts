import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createCache } from './cache.js';

// Memory-only caches under random operation sequences, with a fake clock (Date only).
beforeEach(() => {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(1_700_000_000_000);
});
afterEach(() => {
  vi.useRealTimers();
});

type Command =
  | { op: 'set'; key: number; size: number; ttl: number }
  | { op: 'get'; key: number }
  | { op: 'delete'; key: number }
  | { op: 'advance'; ms: number };

const command: fc.Arbitrary<Command> = fc.oneof(
  fc.record({
    op: fc.constant('set' as const),
    key: fc.nat(40),
    size: fc.nat(3_000),
    ttl: fc.integer({ min: 1, max: 20 }),
  }),
  fc.record({ op: fc.constant('get' as const), key: fc.nat(40) }),
  fc.record({ op: fc.constant('delete' as const), key: fc.nat(40) }),
  fc.record({ op: fc.constant('advance' as const), ms: fc.nat(15_000) }),
);

describe('memory tier (property)', () => {
  it('stays within maxEntries and maxBytes and never returns an expired or foreign value', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(command, { maxLength: 120 }),
        fc.integer({ min: 1, max: 30 }),
        fc.integer({ min: 4_096, max: 40_000 }),
        async (commands, maxEntries, maxBytes) => {
          const cache = createCache({ maxEntries, maxBytes, ttlJitter: 0 });
          const model = new Map<number, { value: string; expiresAt: number }>();
          let version = 0;
          for (const c of commands) {
            if (c.op === 'set') {
              const value = `${++version}:${'x'.repeat(c.size)}`;
              await cache.set(`k${c.key}`, value, c.ttl);
              model.set(c.key, { value, expiresAt: Date.now() + c.ttl * 1000 });
            } else if (c.op === 'get') {
              const got = await cache.get<string>(`k${c.key}`);
              const expected = model.get(c.key);
              if (got !== undefined) {
                // Evictions may turn a hit into a miss, never the other way round.
                expect(expected).toBeDefined();
                expect(got).toBe(expected!.value);
                expect(Date.now()).toBeLessThan(expected!.expiresAt);
              }
            } else if (c.op === 'delete') {
              await cache.delete(`k${c.key}`);
              model.delete(c.key);
              expect(cache.peek(`k${c.key}`)).toBeUndefined();
            } else {
              vi.advanceTimersByTime(c.ms);
            }
            const { memory } = cache.stats();
            expect(memory.entries).toBeLessThanOrEqual(maxEntries);
            expect(memory.bytes).toBeLessThanOrEqual(maxBytes);
          }
          await cache.close();
        },
      ),
      { numRuns: 150 },
    );
  });

  it('a tenant cache never reads or writes another tenant key (property)', async () => {
    const tenantId = fc.oneof(fc.string({ minLength: 1, maxLength: 8 }), fc.nat(1_000));
    const key = fc.string({ minLength: 1, maxLength: 8 });
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(tenantId, key), { minLength: 1, maxLength: 30 }),
        fc.array(fc.tuple(tenantId, key), { maxLength: 30 }),
        async (writes, reads) => {
          const cache = createCache({ ttlJitter: 0 });
          const written = new Map<string, string>();
          const storedKeys = new Map<string, string>(); // stored key -> tenant that wrote it
          cache.on('set', ({ key: stored }) => {
            const owner = String(current);
            expect(storedKeys.get(stored) ?? owner).toBe(owner);
            storedKeys.set(stored, owner);
          });
          let current: string | number = '';
          for (const [tenant, k] of writes) {
            current = tenant;
            const value = `${String(tenant)}|${k}`;
            await cache.forTenant(tenant).set(k, value);
            written.set(JSON.stringify([String(tenant), k]), value);
          }
          for (const [tenant, k] of [...writes, ...reads]) {
            const got = await cache.forTenant(tenant).get<string>(k);
            expect(got).toBe(written.get(JSON.stringify([String(tenant), k])));
            // A tenant's value never surfaces at the root under the same key.
            if (got !== undefined) expect(await cache.get(k)).toBeUndefined();
          }
          await cache.close();
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe('TTL jitter', () => {
  it('spreads expiries within ±ttlJitter of the TTL, never beyond', async () => {
    const cache = createCache({ ttlJitter: 0.2 });
    const keys = Array.from({ length: 300 }, (_, i) => `j${i}`);
    for (const k of keys) await cache.set(k, 1, 100);
    const alive = async () => (await cache.getMany(keys)).filter((v) => v !== undefined).length;
    vi.advanceTimersByTime(79_000);
    expect(await alive()).toBe(300);
    vi.advanceTimersByTime(11_000); // 90 s: some of the [80 s, 120 s] expiries have passed
    const at90 = await alive();
    expect(at90).toBeLessThan(300);
    expect(at90).toBeGreaterThan(0);
    vi.advanceTimersByTime(20_000); // 110 s
    expect(await alive()).toBeLessThan(at90);
    vi.advanceTimersByTime(10_001); // past 120 s
    expect(await alive()).toBe(0);
    await cache.close();
  });
});
