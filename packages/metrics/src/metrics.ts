import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { assertBuckets, DEFAULT_BUCKETS, getOrCreate } from './definitions.js';
import { MetricsError, MetricsOptionsError } from './errors.js';
import { contentTypeOf, expose, negotiateFormat } from './exposition.js';
import { startRuntimeMetrics } from './runtime.js';
import type {
  CounterDefinition,
  GaugeDefinition,
  HistogramDefinition,
  MetricFamily,
  Metrics,
  MetricsOptions,
} from './types.js';

/** Creates the package's handle around one registry: get-or-create primitives, runtime metrics and the exposition. */
export function createMetrics(options: MetricsOptions = {}): Metrics {
  if (
    options.registry !== undefined &&
    !(options.registry instanceof Registry) &&
    typeof (options.registry as Partial<Registry>).getMetricsAsArray !== 'function'
  ) {
    throw new MetricsOptionsError('options.registry must be a prom-client Registry');
  }
  if (options.defaultLabels !== undefined) {
    for (const [k, v] of Object.entries(options.defaultLabels)) {
      if (!/^[a-zA-Z_][a-zA-Z0-9_]*$/.test(k) || k.startsWith('__'))
        throw new MetricsOptionsError(`options.defaultLabels: invalid label name "${k}"`);
      if (typeof v !== 'string') throw new MetricsOptionsError(`options.defaultLabels.${k} must be a string`);
    }
  }
  const runtimeNames = options.runtimeNames ?? 'promlint';
  if (runtimeNames !== 'promlint' && runtimeNames !== 'prom-client')
    throw new MetricsOptionsError("options.runtimeNames must be 'promlint' or 'prom-client'");
  const registry = options.registry ?? new Registry();
  const include = [...(options.include ?? [])].filter((r) => r !== registry);
  const defaultLabels = { ...(options.defaultLabels ?? {}) };

  const handle: Metrics = {
    registry,
    defaultLabels,
    counter<L extends string>(def: CounterDefinition<L>): Counter<L> {
      return getOrCreate(
        registry,
        'counter',
        def,
        () =>
          new Counter<L>({
            name: def.name,
            help: def.help,
            labelNames: [...(def.labelNames ?? [])],
            registers: [],
            ...(def.collect ? { collect: def.collect } : {}),
          }),
      );
    },
    gauge<L extends string>(def: GaugeDefinition<L>): Gauge<L> {
      return getOrCreate(
        registry,
        'gauge',
        def,
        () =>
          new Gauge<L>({
            name: def.name,
            help: def.help,
            labelNames: [...(def.labelNames ?? [])],
            registers: [],
            aggregator: def.aggregator ?? 'sum',
            ...(def.collect ? { collect: def.collect } : {}),
          }),
      );
    },
    histogram<L extends string>(def: HistogramDefinition<L>): Histogram<L> {
      const buckets = def.buckets ?? DEFAULT_BUCKETS;
      assertBuckets(
        buckets,
        () =>
          new MetricsError(`histogram "${def.name}": buckets must be a non-empty ascending list of finite numbers`, {
            code: 'METRICS_INVALID_DEFINITION',
          }),
      );
      return getOrCreate(
        registry,
        'histogram',
        def,
        () =>
          new Histogram<L>({
            name: def.name,
            help: def.help,
            labelNames: [...(def.labelNames ?? [])],
            buckets: [...buckets],
            registers: [],
            enableExemplars: def.exemplars === true,
          }),
        { buckets, exemplars: def.exemplars === true },
      );
    },
    async scrape(accept, extraFamilies = []) {
      const format = negotiateFormat(accept);
      const body = await expose(
        [registry, ...include],
        format,
        { defaultLabels, onConflict: (name) => conflicts.inc({ metric: name }) },
        extraFamilies,
      );
      return { contentType: contentTypeOf(format), body, format };
    },
    async collect() {
      const out: MetricFamily[] = [];
      for (const r of [registry, ...include]) out.push(...((await r.getMetricsAsJSON()) as unknown as MetricFamily[]));
      return out;
    },
    close() {
      stopRuntime?.();
    },
  };

  const conflicts = handle.counter({
    name: 'metrics_exposition_conflicts_total',
    help: 'Metric names that two included registries define with different types; the later definition is left out of /metrics.',
    labelNames: ['metric'],
  });

  const runtime = options.runtime ?? true;
  const stopRuntime =
    runtime === false ? undefined : startRuntimeMetrics(handle, runtime === true ? {} : runtime, runtimeNames);
  return handle;
}
