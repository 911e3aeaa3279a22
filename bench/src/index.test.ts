import { describe, expect, it } from 'vitest';
import { interleave, markdownTable, measureThroughput, percentile, ratio } from './index.js';

describe('bench harness', () => {
  it('computes nearest-rank percentiles', () => {
    const values = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(values, 50)).toBe(50);
    expect(percentile(values, 99)).toBe(99);
    expect(percentile([7], 99)).toBe(7);
    expect(percentile([], 50)).toBeNaN();
  });

  it('rotates the order of candidates each round', async () => {
    const order: string[] = [];
    const runs = await interleave(3, {
      a: async () => order.push('a'),
      b: async () => order.push('b'),
      c: async () => order.push('c'),
    });
    expect(order).toEqual(['a', 'b', 'c', 'b', 'c', 'a', 'c', 'a', 'b']);
    expect(runs.a).toHaveLength(3);
  });

  it('keeps the requested concurrency in flight', async () => {
    let inFlight = 0;
    let peak = 0;
    const m = await measureThroughput(
      async () => {
        peak = Math.max(peak, ++inFlight);
        await new Promise((r) => setTimeout(r, 1));
        inFlight--;
      },
      { concurrency: 8, durationMs: 50, warmupMs: 0 },
    );
    expect(peak).toBe(8);
    expect(m.ops).toBeGreaterThan(0);
    expect(m.p99Ms).toBeGreaterThanOrEqual(m.p50Ms);
  });

  it('prints ratios and tables', () => {
    expect(ratio(3, 2)).toBe('1.50x');
    expect(markdownTable(['a', 'b'], [['x', 1234.5]])).toBe('| a | b |\n| --- | --- |\n| x | 1,235 |');
  });
});
