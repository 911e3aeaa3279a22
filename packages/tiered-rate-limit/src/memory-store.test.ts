import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MemoryStore } from './memory-store.js';

const fixed = (limit: number, windowMs: number, cost = 1) => [1, limit, windowMs, cost, 0];

describe('MemoryStore', () => {
  it('never holds more than maxKeys keys and evicts the least recently used', () => {
    const store = new MemoryStore({ maxKeys: 3 });
    for (const k of ['a', 'b', 'c']) store.decide([k], fixed(5, 60_000), 0);
    store.decide(['a'], fixed(5, 60_000), 1); // a is now the most recent
    store.decide(['d'], fixed(5, 60_000), 2);
    expect(store.size).toBe(3);
    expect(store.evictions).toBe(1);
    // b was evicted (fresh counter: 4 left), a kept its count (3 left).
    expect(store.decide(['a'], fixed(5, 60_000), 3)[2]).toBe(2);
    expect(store.decide(['c'], fixed(5, 60_000), 4)[2]).toBe(3);
  });

  it('holds the cap under any sequence of keys (fast-check)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 50 }),
        fc.array(fc.integer({ min: 0, max: 200 }), { maxLength: 500 }),
        (cap, keys) => {
          const store = new MemoryStore({ maxKeys: cap });
          let now = 0;
          for (const k of keys) {
            store.decide([`k${k}`, `j${k}`], [...fixed(3, 1_000), ...fixed(2, 2_000)], (now += 7));
            expect(store.size).toBeLessThanOrEqual(cap);
          }
        },
      ),
    );
  });

  it('returns to its initial size once keys expire and the sweep has run (no timer per key)', () => {
    const store = new MemoryStore({ maxKeys: 200_000 });
    for (let i = 0; i < 100_000; i++) store.decide([`k${i}`], fixed(5, 10_000), 1_000);
    expect(store.size).toBe(100_000);
    for (let t = 0; t < 40; t++) store.sweep(20_000 + t);
    expect(store.size).toBe(0);
    // The typed arrays shrank back to their initial capacity.
    expect((store as unknown as { capacity: number }).capacity).toBe(1024);
    // Still correct after compaction.
    expect(store.decide(['x'], fixed(1, 10_000), 30_000)[0]).toBe(1);
    expect(store.decide(['x'], fixed(1, 10_000), 30_001)[0]).toBe(0);
  });

  it('keeps live keys and their counts through a compaction', () => {
    const store = new MemoryStore({ maxKeys: 100_000 });
    for (let i = 0; i < 10_000; i++) store.decide([`old${i}`], fixed(5, 1_000), 0);
    store.decide(['live'], fixed(5, 60_000), 0);
    store.decide(['live'], fixed(5, 60_000), 0);
    for (let t = 0; t < 20; t++) store.sweep(5_000);
    expect(store.size).toBe(1);
    expect(store.decide(['live'], fixed(5, 60_000), 5_000)[2]).toBe(2);
  });
});
