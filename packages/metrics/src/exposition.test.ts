import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { expose, negotiateFormat } from './exposition.js';
import { createMetrics } from './metrics.js';

describe('negotiateFormat', () => {
  it.each([
    [undefined, 'prometheus'],
    ['', 'prometheus'],
    ['*/*', 'prometheus'],
    ['text/plain;version=0.0.4', 'prometheus'],
    ['application/openmetrics-text', 'openmetrics'],
    ['application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1', 'openmetrics'],
    ['text/plain;q=1, application/openmetrics-text;q=0.5', 'prometheus'],
    ['application/openmetrics-text;q=0, text/plain', 'prometheus'],
    ['application/json', 'prometheus'],
  ])('%s -> %s', (accept, format) => {
    expect(negotiateFormat(accept)).toBe(format);
  });
});

describe('expose', () => {
  it('escapes label values and help text so one odd value cannot corrupt the exposition', async () => {
    const metrics = createMetrics({ runtime: false });
    metrics.counter({ name: 'odd_total', help: 'Line one\nback\\slash', labelNames: ['v'] }).inc({ v: 'a"b\\c\nd' });
    const text = (await metrics.scrape()).body;
    expect(text).toContain('# HELP odd_total Line one\\nback\\\\slash\n');
    expect(text).toContain('odd_total{v="a\\"b\\\\c\\nd"} 1\n');
    const om = (await metrics.scrape('application/openmetrics-text')).body;
    expect(om).toContain('# TYPE odd counter\n');
    expect(om).toContain('odd_total{v="a\\"b\\\\c\\nd"} 1\n');
    metrics.close();
  });

  it('renders histograms like prom-client does, sample for sample', async () => {
    const metrics = createMetrics({ runtime: false, defaultLabels: { service: 'x' } });
    const h = metrics.histogram({ name: 'h_seconds', help: 'H.', labelNames: ['a'], buckets: [0.1, 1] });
    h.observe({ a: 'p' }, 0.05);
    h.observe({ a: 'p' }, 0.5);
    h.observe({ a: 'q' }, 5);
    metrics.gauge({ name: 'g', help: 'G.' }).set(Number.NaN);
    const ours = (await metrics.scrape()).body;
    const reference = new Registry();
    reference.registerMetric(h);
    reference.registerMetric(metrics.registry.getSingleMetric('g')!);
    reference.setDefaultLabels({ service: 'x' });
    // Same samples and values; label order inside braces and line order may differ.
    const norm = (t: string) =>
      t
        .split('\n')
        .filter((l) => l && !l.startsWith('#') && !l.startsWith('metrics_exposition'))
        .map((l) => l.replace('Nan', 'NaN').replace(/\{([^}]*)\}/, (_m, inner: string) => `{${inner.split(',').sort().join(',')}}`))
        .sort();
    const theirs = norm(await reference.metrics());
    const mine = norm(ours);
    expect(mine).toEqual(theirs);
    metrics.close();
  });

  it('ends OpenMetrics with # EOF and strips _total from counter family names only', async () => {
    const registry = new Registry();
    const metrics = createMetrics({ registry, runtime: false });
    metrics.counter({ name: 'a_total', help: 'A.' }).inc();
    metrics.gauge({ name: 'b_bytes', help: 'B.' }).set(1);
    const om = await expose([registry], 'openmetrics');
    expect(om).toMatch(/# TYPE a counter\na_total 1\n/);
    expect(om).toMatch(/# TYPE b_bytes gauge\nb_bytes 1\n/);
    expect(om.endsWith('# EOF\n')).toBe(true);
    metrics.close();
  });
});

describe('runtime metrics', () => {
  it('expose CPU, memory, event loop, GC and version series, and close() stops the collectors', async () => {
    const metrics = createMetrics();
    const body = (await metrics.scrape()).body;
    for (const name of ['process_cpu_seconds_total', 'process_resident_memory_bytes', 'nodejs_eventloop_lag_p99_seconds', 'nodejs_heap_size_used_bytes', 'nodejs_gc_duration_seconds_count{kind="major"}', 'nodejs_version_info{', 'nodejs_active_resources']) {
      expect(body).toContain(name);
    }
    expect(Number(/^process_cpu_seconds_total (\S+)$/m.exec(body)![1])).toBeGreaterThan(0);
    expect(body).not.toMatch(/^nodejs_active_\w+_total/m);
    metrics.close();
  });
});
