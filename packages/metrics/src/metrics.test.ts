import { Counter, Registry, register as globalRegistry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { MetricConflictError, MetricsOptionsError } from './errors.js';
import { createMetrics } from './metrics.js';
import type { Metrics } from './types.js';

const handles: Metrics[] = [];
const make = (...args: Parameters<typeof createMetrics>) => {
  const m = createMetrics(...args);
  handles.push(m);
  return m;
};
afterEach(() => {
  for (const h of handles.splice(0)) h.close();
});

describe('registry handling', () => {
  it('uses the injected registry and never the global default one', async () => {
    const registry = new Registry();
    const before = globalRegistry.getMetricsAsArray().length;
    const metrics = make({ registry, runtime: false });
    metrics.counter({ name: 'jobs_total', help: 'Jobs.' }).inc();
    expect(registry.getSingleMetric('jobs_total')).toBeDefined();
    expect(globalRegistry.getMetricsAsArray().length).toBe(before);
    expect((await metrics.scrape()).body).toContain('jobs_total 1');
  });

  it('creates its own registry when none is given', () => {
    const a = make({ runtime: false });
    const b = make({ runtime: false });
    expect(a.registry).not.toBe(b.registry);
    expect(a.registry).not.toBe(globalRegistry);
  });

  it('returns the same metric for an identical definition (label order does not matter)', () => {
    const metrics = make({ runtime: false });
    const a = metrics.histogram({ name: 'x_seconds', help: 'X.', labelNames: ['a', 'b'], buckets: [1, 2] });
    const b = metrics.histogram({ name: 'x_seconds', help: 'X.', labelNames: ['b', 'a'], buckets: [1, 2] });
    expect(b).toBe(a);
  });

  it('returns the same metric across two handles on one registry (two copies of a library)', () => {
    const registry = new Registry();
    const a = make({ registry, runtime: false }).counter({ name: 'y_total', help: 'Y.', labelNames: ['k'] });
    const b = make({ registry, runtime: false }).counter({ name: 'y_total', help: 'Y.', labelNames: ['k'] });
    expect(b).toBe(a);
  });

  it.each([
    [
      'a different type',
      () => ({ kind: 'gauge' as const, def: { name: 'c_total', help: 'C.', labelNames: ['a'] } }),
      /counter\(.*\).*gauge\(/,
    ],
    [
      'different labels',
      () => ({ kind: 'counter' as const, def: { name: 'c_total', help: 'C.', labelNames: ['b'] } }),
      /labels=\[a\].*labels=\[b\]/,
    ],
    [
      'a different help',
      () => ({ kind: 'counter' as const, def: { name: 'c_total', help: 'Other.', labelNames: ['a'] } }),
      /"C\.".*"Other\."/,
    ],
  ])('throws a MetricConflictError naming the metric and both definitions for %s', (_name, make2, pattern) => {
    const metrics = make({ runtime: false });
    metrics.counter({ name: 'c_total', help: 'C.', labelNames: ['a'] });
    const { kind, def } = make2();
    let error: unknown;
    try {
      if (kind === 'gauge') metrics.gauge(def);
      else metrics.counter(def);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(MetricConflictError);
    const conflict = error as MetricConflictError;
    expect(conflict.code).toBe('METRICS_CONFLICT');
    expect(conflict.metricName).toBe('c_total');
    expect(conflict.message).toContain('"c_total"');
    expect(conflict.message).toMatch(pattern);
  });

  it('names bucket differences of histograms in the conflict', () => {
    const metrics = make({ runtime: false });
    metrics.histogram({ name: 'h_seconds', help: 'H.', buckets: [1, 2] });
    expect(() => metrics.histogram({ name: 'h_seconds', help: 'H.', buckets: [1, 3] })).toThrow(
      /buckets=\[1,2\].*buckets=\[1,3\]/,
    );
  });

  it('detects conflicts with metrics registered directly through prom-client', () => {
    const registry = new Registry();
    new Counter({ name: 'raw_total', help: 'Raw.', registers: [registry] });
    const metrics = make({ registry, runtime: false });
    expect(metrics.counter({ name: 'raw_total', help: 'Raw.' })).toBe(registry.getSingleMetric('raw_total'));
    expect(() => metrics.gauge({ name: 'raw_total', help: 'Raw.' })).toThrow(MetricConflictError);
  });

  it('rejects invalid definitions and options with coded errors', () => {
    const metrics = make({ runtime: false });
    expect(() => metrics.counter({ name: 'bad-name', help: 'x' })).toThrow(
      expect.objectContaining({ code: 'METRICS_INVALID_DEFINITION' }),
    );
    expect(() => metrics.counter({ name: 'ok_total', help: '' })).toThrow(
      expect.objectContaining({ code: 'METRICS_INVALID_DEFINITION' }),
    );
    expect(() => metrics.histogram({ name: 'h2_seconds', help: 'x', buckets: [2, 1] })).toThrow(/ascending/);
    expect(() => createMetrics({ registry: {} as Registry })).toThrow(MetricsOptionsError);
    expect(() => createMetrics({ defaultLabels: { 'bad-label': 'x' } })).toThrow(MetricsOptionsError);
  });

  it('merges several registries into one exposition without duplicate # HELP', async () => {
    const cacheRegistry = new Registry();
    const limiterRegistry = new Registry();
    new Counter({ name: 'cache_hits_total', help: 'Hits.', labelNames: ['tier'], registers: [cacheRegistry] }).inc({
      tier: 'l1',
    });
    new Counter({ name: 'cache_hits_total', help: 'Hits.', labelNames: ['tier'], registers: [limiterRegistry] }).inc(
      { tier: 'l2' },
      2,
    );
    new Counter({ name: 'rate_limit_exceeded_total', help: 'Rejected.', registers: [limiterRegistry] }).inc();
    const metrics = make({ runtime: false, include: [cacheRegistry, limiterRegistry] });
    metrics.counter({ name: 'own_total', help: 'Own.' });
    const { body } = await metrics.scrape();
    const helps = body.split('\n').filter((l) => l.startsWith('# HELP '));
    expect(new Set(helps).size).toBe(helps.length);
    expect(helps.filter((l) => l.startsWith('# HELP cache_hits_total '))).toHaveLength(1);
    expect(body).toContain('cache_hits_total{tier="l1"} 1');
    expect(body).toContain('cache_hits_total{tier="l2"} 2');
    expect(body).toContain('rate_limit_exceeded_total 1');
  });

  it('leaves a type clash between included registries out of /metrics and counts it', async () => {
    const other = new Registry();
    new Counter({ name: 'own_total', help: 'Other.', registers: [other] });
    const metrics = make({ runtime: false, include: [other] });
    metrics.gauge({ name: 'own_total', help: 'Mine.' }).set(3);
    const { body } = await metrics.scrape();
    expect(body).toContain('# TYPE own_total gauge');
    expect(body).not.toContain('# TYPE own_total counter');
    expect(body).toContain('metrics_exposition_conflicts_total{metric="own_total"} 1');
  });
});
