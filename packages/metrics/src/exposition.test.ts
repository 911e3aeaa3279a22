import { Registry } from 'prom-client';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { expose, negotiateFormat } from './exposition.js';
import { createMetrics } from './metrics.js';
import { SeriesHistogram } from './series-histogram.js';

describe('negotiateFormat', () => {
  it.each([
    [undefined, 'prometheus'],
    ['', 'prometheus'],
    ['*/*', 'prometheus'],
    ['text/plain;version=0.0.4', 'prometheus'],
    ['application/openmetrics-text', 'openmetrics'],
    [
      'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1',
      'openmetrics',
    ],
    ['text/plain;q=1, application/openmetrics-text;q=0.5', 'prometheus'],
    ['application/openmetrics-text;q=0, text/plain', 'prometheus'],
    ['application/json', 'prometheus'],
  ])('%s -> %s', (accept, format) => {
    expect(negotiateFormat(accept)).toBe(format);
  });
});

afterEach(() => {
  vi.restoreAllMocks();
});

// What the serializer printed for the histograms of the byte-for-byte test below (0.0.4 and OpenMetrics).
const PINNED_PROMETHEUS = [
  '# HELP plain_seconds Plain.',
  '# TYPE plain_seconds histogram',
  'plain_seconds_bucket{service="x",le="0.5"} 1',
  'plain_seconds_bucket{service="x",le="1"} 2',
  'plain_seconds_bucket{service="x",le="+Inf"} 3',
  'plain_seconds_sum{service="x"} 4',
  'plain_seconds_count{service="x"} 3',
  '',
  '# HELP labelled_seconds Labelled.',
  '# TYPE labelled_seconds histogram',
  'labelled_seconds_bucket{a="q\\"\\\\z",service="own",le="1"} 0',
  'labelled_seconds_bucket{a="q\\"\\\\z",service="own",le="2.5"} 1',
  'labelled_seconds_bucket{a="q\\"\\\\z",service="own",le="+Inf"} 1',
  'labelled_seconds_sum{a="q\\"\\\\z",service="own"} 2',
  'labelled_seconds_count{a="q\\"\\\\z",service="own"} 1',
  'labelled_seconds_bucket{a="p",service="own",le="1"} 1',
  'labelled_seconds_bucket{a="p",service="own",le="2.5"} 1',
  'labelled_seconds_bucket{a="p",service="own",le="+Inf"} 2',
  'labelled_seconds_sum{a="p",service="own"} 9.5',
  'labelled_seconds_count{a="p",service="own"} 2',
  '',
  '# HELP series_seconds Series.',
  '# TYPE series_seconds histogram',
  'series_seconds_bucket{route="/users/:id",service="x",le="0.1"} 1',
  'series_seconds_bucket{route="/users/:id",service="x",le="1"} 2',
  'series_seconds_bucket{route="/users/:id",service="x",le="10"} 2',
  'series_seconds_bucket{route="/users/:id",service="x",le="+Inf"} 3',
  'series_seconds_sum{route="/users/:id",service="x"} 20.55',
  'series_seconds_count{route="/users/:id",service="x"} 3',
  'series_seconds_bucket{route="/",service="x",le="0.1"} 0',
  'series_seconds_bucket{route="/",service="x",le="1"} 0',
  'series_seconds_bucket{route="/",service="x",le="10"} 0',
  'series_seconds_bucket{route="/",service="x",le="+Inf"} 1',
  'series_seconds_sum{route="/",service="x"} +Inf',
  'series_seconds_count{route="/",service="x"} 1',
  '',
  '# HELP bare_seconds Bare.',
  '# TYPE bare_seconds histogram',
  'bare_seconds_bucket{service="x",le="1"} 1',
  'bare_seconds_bucket{service="x",le="+Inf"} 1',
  'bare_seconds_sum{service="x"} 0.5',
  'bare_seconds_count{service="x"} 1',
  '',
].join('\n');
const PINNED_OPENMETRICS = [
  '# HELP plain_seconds Plain.',
  '# TYPE plain_seconds histogram',
  'plain_seconds_bucket{service="x",le="0.5"} 1',
  'plain_seconds_bucket{service="x",le="1"} 2',
  'plain_seconds_bucket{service="x",le="+Inf"} 3',
  'plain_seconds_sum{service="x"} 4',
  'plain_seconds_count{service="x"} 3',
  '# HELP labelled_seconds Labelled.',
  '# TYPE labelled_seconds histogram',
  'labelled_seconds_bucket{a="q\\"\\\\z",service="own",le="1"} 0',
  'labelled_seconds_bucket{a="q\\"\\\\z",service="own",le="2.5"} 1 # {trace_id="t1"} 2 1700000000.123',
  'labelled_seconds_bucket{a="q\\"\\\\z",service="own",le="+Inf"} 1',
  'labelled_seconds_sum{a="q\\"\\\\z",service="own"} 2',
  'labelled_seconds_count{a="q\\"\\\\z",service="own"} 1',
  'labelled_seconds_bucket{a="p",service="own",le="1"} 1',
  'labelled_seconds_bucket{a="p",service="own",le="2.5"} 1',
  'labelled_seconds_bucket{a="p",service="own",le="+Inf"} 2 # {trace_id="t2"} 9 1700000000.123',
  'labelled_seconds_sum{a="p",service="own"} 9.5',
  'labelled_seconds_count{a="p",service="own"} 2',
  '# HELP series_seconds Series.',
  '# TYPE series_seconds histogram',
  'series_seconds_bucket{route="/users/:id",service="x",le="0.1"} 1 # {trace_id="u1"} 0.05 1700000000.123',
  'series_seconds_bucket{route="/users/:id",service="x",le="1"} 2',
  'series_seconds_bucket{route="/users/:id",service="x",le="10"} 2',
  'series_seconds_bucket{route="/users/:id",service="x",le="+Inf"} 3 # {trace_id="u2"} 20 1700000000.123',
  'series_seconds_sum{route="/users/:id",service="x"} 20.55',
  'series_seconds_count{route="/users/:id",service="x"} 3',
  'series_seconds_bucket{route="/",service="x",le="0.1"} 0',
  'series_seconds_bucket{route="/",service="x",le="1"} 0',
  'series_seconds_bucket{route="/",service="x",le="10"} 0',
  'series_seconds_bucket{route="/",service="x",le="+Inf"} 1',
  'series_seconds_sum{route="/",service="x"} +Inf',
  'series_seconds_count{route="/",service="x"} 1',
  '# HELP bare_seconds Bare.',
  '# TYPE bare_seconds histogram',
  'bare_seconds_bucket{service="x",le="1"} 1',
  'bare_seconds_bucket{service="x",le="+Inf"} 1',
  'bare_seconds_sum{service="x"} 0.5',
  'bare_seconds_count{service="x"} 1',
  '# EOF',
  '',
].join('\n');

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
        .map((l) =>
          l
            .replace('Nan', 'NaN')
            .replace(/\{([^}]*)\}/, (_m, inner: string) => `{${inner.split(',').sort().join(',')}}`),
        )
        .sort();
    const theirs = norm(await reference.metrics());
    const mine = norm(ours);
    expect(mine).toEqual(theirs);
    metrics.close();
  });

  it('renders series histograms and prom-client histograms byte for byte as pinned (default labels, exemplars, +Inf, escaping)', async () => {
    vi.spyOn(Date, 'now').mockReturnValue(1_700_000_000_123);
    const registry = new Registry();
    const metrics = createMetrics({ registry, runtime: false, defaultLabels: { service: 'x' } });
    const plain = metrics.histogram({ name: 'plain_seconds', help: 'Plain.', buckets: [0.5, 1] });
    plain.observe(0.25);
    plain.observe(0.75);
    plain.observe(3);
    const labelled = metrics.histogram({
      name: 'labelled_seconds',
      help: 'Labelled.',
      labelNames: ['a', 'service'],
      buckets: [1, 2.5],
      exemplars: true,
    });
    labelled.observe({ labels: { a: 'q"\\z', service: 'own' }, value: 2, exemplarLabels: { trace_id: 't1' } as never });
    labelled.observe({ labels: { a: 'p', service: 'own' }, value: 9, exemplarLabels: { trace_id: 't2' } as never });
    labelled.observe({ labels: { a: 'p', service: 'own' }, value: 0.5 });
    const series = new SeriesHistogram('series_seconds', 'Series.', ['route'], [0.1, 1, 10], true);
    registry.registerMetric(series as never);
    const users = series.series({ route: '/users/:id' });
    series.record(users, 0.05, { trace_id: 'u1' });
    series.record(users, 0.5);
    series.record(users, 20, { trace_id: 'u2' });
    series.record(series.series({ route: '/' }), Number.POSITIVE_INFINITY);
    const bare = new SeriesHistogram('bare_seconds', 'Bare.', [], [1]);
    registry.registerMetric(bare as never);
    bare.observe(0.5);
    const body = (await metrics.scrape()).body;
    const om = (await metrics.scrape('application/openmetrics-text')).body;
    const families = (text: string) => text.slice(text.indexOf('# HELP plain_seconds'));
    expect(families(body)).toBe(PINNED_PROMETHEUS);
    expect(families(om)).toBe(PINNED_OPENMETRICS);
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
    for (const name of [
      'process_cpu_seconds_total',
      'process_resident_memory_bytes',
      'nodejs_eventloop_lag_p99_seconds',
      'nodejs_heap_size_used_bytes',
      'nodejs_gc_duration_seconds_count{kind="major"}',
      'nodejs_version_info{',
      'nodejs_active_resources',
    ]) {
      expect(body).toContain(name);
    }
    expect(Number(/^process_cpu_seconds_total (\S+)$/m.exec(body)![1])).toBeGreaterThan(0);
    expect(body).not.toMatch(/^nodejs_active_\w+_total/m);
    metrics.close();
  });

  it('read process.memoryUsage() once per scrape for the four memory gauges, all from the same reading', async () => {
    const metrics = createMetrics();
    const reading = { rss: 1001, heapTotal: 1002, heapUsed: 1003, external: 1004, arrayBuffers: 1005 };
    const usage = vi.spyOn(process, 'memoryUsage').mockImplementation(() => ({ ...reading }));
    const rss = vi.spyOn(process.memoryUsage, 'rss');
    const gauges = (body: string) =>
      body
        .split('\n')
        .filter((l) =>
          /^(process_resident_memory|nodejs_heap_size_total|nodejs_heap_size_used|nodejs_external_memory)_bytes /.test(
            l,
          ),
        );
    expect(gauges((await metrics.scrape()).body)).toEqual([
      'process_resident_memory_bytes 1001',
      'nodejs_heap_size_total_bytes 1002',
      'nodejs_heap_size_used_bytes 1003',
      'nodejs_external_memory_bytes 1004',
    ]);
    expect(usage).toHaveBeenCalledTimes(1);
    await new Promise((resolve) => setImmediate(resolve));
    reading.rss = 2001;
    reading.heapUsed = 2003;
    expect(gauges((await metrics.scrape('application/openmetrics-text')).body)).toEqual([
      'process_resident_memory_bytes 2001',
      'nodejs_heap_size_total_bytes 1002',
      'nodejs_heap_size_used_bytes 2003',
      'nodejs_external_memory_bytes 1004',
    ]);
    expect(usage).toHaveBeenCalledTimes(2);
    expect(rss).not.toHaveBeenCalled();
    metrics.close();
  });
});
