import { Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { expose } from './exposition.js';
import { SeriesHistogram } from './series-histogram.js';

describe('SeriesHistogram', () => {
  it('gives exactly what a prom-client Histogram gives for the same observations (bucket edges included)', async () => {
    const buckets = [0.1, 0.5, 1];
    const ours = new SeriesHistogram('h_seconds', 'H.', ['a'], buckets);
    const ref = new Histogram({ name: 'h_seconds', help: 'H.', labelNames: ['a'], buckets, registers: [] });
    const values = [0, 0.1, 0.1000001, 0.5, 0.75, 1, 1.5, 42, ...Array.from({ length: 200 }, () => Math.random() * 2)];
    for (const [i, v] of values.entries()) {
      const a = i % 3 === 0 ? 'x' : 'y';
      ours.record(ours.series({ a }), v);
      ref.observe({ a }, v);
    }
    const key = (s: { metricName?: string; labels: Record<string, unknown> }) =>
      `${s.metricName}${JSON.stringify(Object.entries(s.labels).sort())}`;
    const toMap = (values: { metricName?: string; labels: Record<string, unknown>; value: number }[]) =>
      new Map(values.map((s) => [key(s), s.value]));
    const mine = toMap((await ours.get()).values);
    const theirs = toMap((await ref.get()).values as never);
    expect(mine.size).toBe(theirs.size);
    for (const [k, v] of theirs) expect(mine.get(k), k).toBeCloseTo(v, 9);
  });

  it('is rendered by prom-client registries and by the package serializer', async () => {
    const h = new SeriesHistogram('d_seconds', 'D.', [], [1]);
    h.observe(0.5);
    h.observe(2);
    const registry = new Registry();
    registry.registerMetric(h as never);
    expect(await registry.metrics()).toContain('d_seconds_bucket{le="1"} 1');
    const text = await expose([registry], 'prometheus');
    expect(text).toContain(
      'd_seconds_bucket{le="1"} 1\nd_seconds_bucket{le="+Inf"} 2\nd_seconds_sum 2.5\nd_seconds_count 2\n',
    );
  });
});
