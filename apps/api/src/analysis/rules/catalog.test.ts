import { describe, expect, it } from 'vitest';
import { RULES } from './index.js';

describe('rule catalog', () => {
  const catalog = RULES.filter((r) => r.number <= 40);

  it('has the 40 catalog rules, numbered 1-40 with unique ids, plus extensions after them', () => {
    expect(catalog.map((r) => r.number)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    expect(new Set(RULES.map((r) => r.id)).size).toBe(RULES.length);
  });

  it('matches the severity counts of the catalog: critical 4, high 17, medium 14, low 3, info 2', () => {
    const counts: Record<string, number> = {};
    for (const r of catalog) counts[r.severity] = (counts[r.severity] ?? 0) + 1;
    expect(counts).toEqual({ critical: 4, high: 17, medium: 14, low: 3, info: 2 });
  });

  it('uses the granularity of §4.1 item 6', () => {
    const step = [4, 8, 9, 14, 15, 16, 20, 21, 22, 23, 25, 26, 30, 31, 32, 33, 34, 35, 36, 38, 39];
    for (const r of catalog) {
      const expected = step.includes(r.number)
        ? 'step'
        : r.number === 10
          ? 'trigger'
          : [17, 18, 19].includes(r.number)
            ? 'reference'
            : 'workflow';
      expect(`${r.id}:${r.granularity}`).toBe(`${r.id}:${expected}`);
    }
  });

  it('gives every rule a title and a fix', () => {
    for (const r of RULES) {
      expect(r.title.length).toBeGreaterThan(5);
      expect(r.fix.length).toBeGreaterThan(5);
    }
  });
});
