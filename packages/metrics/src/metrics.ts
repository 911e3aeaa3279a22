import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { MetricConflictError, MetricsError, MetricsOptionsError } from './errors.js';
import { contentTypeOf, expose, negotiateFormat, type ExpositionFormat, type MetricFamily } from './exposition.js';
import { startRuntimeMetrics, type RuntimeMetricsOptions } from './runtime.js';

/** How cluster aggregation combines a gauge's per-worker values. */
export type Aggregator = 'sum' | 'first' | 'min' | 'max' | 'average' | 'omit';

/** Fields every metric definition has. */
export interface BaseDefinition<L extends string> {
  /** Metric name, with its unit suffix (`_seconds`, `_bytes`) and `_total` for counters. */
  name: string;
  /** One-line description shown in `# HELP`. */
  help: string;
  /** Label names; keep values bounded (no ids, emails or raw URLs). @default [] */
  labelNames?: readonly L[];
}

/** A counter: only goes up. */
export interface CounterDefinition<L extends string> extends BaseDefinition<L> {
  /** Called before each scrape, for counters kept outside prom-client and synced on scrape. */
  collect?: (this: Counter<L>) => void | Promise<void>;
}

/** A gauge: a value that goes up and down. */
export interface GaugeDefinition<L extends string> extends BaseDefinition<L> {
  /** How the cluster primary combines workers' values. @default 'sum' */
  aggregator?: Aggregator;
  /** Called before each scrape to refresh the value. */
  collect?: (this: Gauge<L>) => void | Promise<void>;
}

/** A histogram: a distribution over fixed buckets. */
export interface HistogramDefinition<L extends string> extends BaseDefinition<L> {
  /** Upper bounds of the buckets, ascending. @default [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] */
  buckets?: readonly number[];
  /** Keep one exemplar per bucket (OpenMetrics only); `observe` then takes `{ labels, value, exemplarLabels }`. @default false */
  exemplars?: boolean;
}

/** Options of {@link createMetrics}. */
export interface MetricsOptions {
  /** The prom-client registry every metric goes to; the global default registry is never used. @default a new Registry */
  registry?: Registry;
  /** Further registries (for example the ones given to @org/cache or @org/tiered-rate-limit) exposed on the same /metrics. @default [] */
  include?: readonly Registry[];
  /** Labels added to every exposed sample that does not set them (for example `{ service: 'api' }`). @default {} */
  defaultLabels?: Record<string, string>;
  /** Collect the Node.js runtime metrics (lint-clean under `promtool check metrics`); `false` to skip. @default true */
  runtime?: boolean | RuntimeMetricsOptions;
  /** `'prom-client'` adds prom-client's default runtime metric names (gauges named `*_total` included, which promtool's lint flags) so community Node.js dashboards find every series. @default 'promlint' */
  runtimeNames?: 'promlint' | 'prom-client';
}

/** What one scrape produced. */
export interface Scrape {
  contentType: string;
  body: string;
  format: ExpositionFormat;
}

/** The handle {@link createMetrics} returns. */
export interface Metrics {
  /** The registry every metric of this handle lives in. */
  readonly registry: Registry;
  /** Labels added to every exposed sample (from `options.defaultLabels`). */
  readonly defaultLabels: Readonly<Record<string, string>>;
  /** Registers (or returns the identical, already registered) counter. Throws {@link MetricConflictError} on a different definition. */
  counter<L extends string = string>(definition: CounterDefinition<L>): Counter<L>;
  /** Registers (or returns the identical, already registered) gauge. */
  gauge<L extends string = string>(definition: GaugeDefinition<L>): Gauge<L>;
  /** Registers (or returns the identical, already registered) histogram. */
  histogram<L extends string = string>(definition: HistogramDefinition<L>): Histogram<L>;
  /** Renders every registry (own plus `include`) in the format the Accept header asks for. */
  scrape(accept?: string | null, extraFamilies?: readonly MetricFamily[]): Promise<Scrape>;
  /** Every metric of every registry as JSON families (what a cluster worker sends to the primary). */
  collect(): Promise<MetricFamily[]>;
  /** Stops the runtime collectors (timers, GC observer). Never closes an injected registry. */
  close(): void;
}

export const DEFINITION = Symbol.for('@org/metrics.definition');
export const DEFAULT_BUCKETS: readonly number[] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

type AnyMetric = { name: string; help: string; type: string; labelNames?: readonly string[]; upperBounds?: readonly number[]; enableExemplars?: boolean; [DEFINITION]?: string };

export function describe(type: string, help: string, labelNames: readonly string[], buckets?: readonly number[], exemplars = false): string {
  const parts = [`help=${JSON.stringify(help)}`, `labels=[${[...labelNames].sort().join(',')}]`];
  if (buckets) parts.push(`buckets=[${buckets.join(',')}]`);
  // An exemplar histogram's observe() takes an object, so mixing the two would break callers.
  if (exemplars) parts.push('exemplars=true');
  return `${type}(${parts.join(', ')})`;
}

function describeExisting(metric: AnyMetric): string {
  return metric[DEFINITION] ?? describe(metric.type, metric.help, metric.labelNames ?? [], metric.type === 'histogram' ? metric.upperBounds : undefined, metric.enableExemplars === true);
}

/** Throws `error()` unless `buckets` is a non-empty ascending list of finite numbers. */
export function assertBuckets(buckets: unknown, error: () => Error): asserts buckets is readonly number[] {
  if (!Array.isArray(buckets) || buckets.length === 0 || buckets.some((b, i) => typeof b !== 'number' || !Number.isFinite(b) || (i > 0 && b <= buckets[i - 1]!))) {
    throw error();
  }
}

/** How {@link getOrCreate} describes and matches a definition. */
export interface GetOrCreateOptions {
  /** Histogram buckets (part of the definition). */
  buckets?: readonly number[];
  /** Exemplar histogram (part of the definition). @default false */
  exemplars?: boolean;
  /** Whether an already registered metric with the identical definition may be returned. @default any may */
  reuse?: (existing: unknown) => boolean;
  /** How a metric `reuse` refuses is named in the conflict error. @default its definition */
  describeRefused?: (existing: unknown) => string;
}

/**
 * Returns the metric `def.name` already registered in `registry` when its definition is identical (and
 * `reuse` accepts it), throws {@link MetricConflictError} naming both definitions otherwise, and creates
 * and registers it when the name is free.
 */
export function getOrCreate<M>(registry: Registry, type: string, def: BaseDefinition<string>, create: () => M, options: GetOrCreateOptions = {}): M {
  if (!def || typeof def.name !== 'string' || typeof def.help !== 'string' || def.help.length === 0) {
    throw new MetricsError('a metric definition needs a string name and a non-empty help', { code: 'METRICS_INVALID_DEFINITION' });
  }
  const wanted = describe(type, def.help, def.labelNames ?? [], options.buckets, options.exemplars);
  const existing = registry.getSingleMetric(def.name) as unknown as AnyMetric | undefined;
  if (existing) {
    const { reuse, describeRefused } = options;
    if (reuse && !reuse(existing)) throw new MetricConflictError(def.name, describeRefused ? describeRefused(existing) : describeExisting(existing), wanted);
    const have = describeExisting(existing);
    if (have !== wanted) throw new MetricConflictError(def.name, have, wanted);
    return existing as unknown as M;
  }
  let metric: M;
  try {
    metric = create();
  } catch (error) {
    throw new MetricsError(`invalid definition of metric "${def.name}": ${(error as Error).message}`, { code: 'METRICS_INVALID_DEFINITION', cause: error });
  }
  Object.defineProperty(metric, DEFINITION, { value: wanted, enumerable: false });
  // registers: [] then an explicit register: prom-client refuses exemplars on a registry whose
  // content type is the Prometheus one, but the content type here is chosen per scrape.
  registry.registerMetric(metric as never);
  return metric;
}

/** Creates the package's handle around one registry: get-or-create primitives, runtime metrics and the exposition. */
export function createMetrics(options: MetricsOptions = {}): Metrics {
  if (options.registry !== undefined && !(options.registry instanceof Registry) && typeof (options.registry as Partial<Registry>).getMetricsAsArray !== 'function') {
    throw new MetricsOptionsError('options.registry must be a prom-client Registry');
  }
  if (options.defaultLabels !== undefined) {
    for (const [k, v] of Object.entries(options.defaultLabels)) {
      if (!/^[a-zA-Z_][a-zA-Z0-9_]*$/.test(k) || k.startsWith('__')) throw new MetricsOptionsError(`options.defaultLabels: invalid label name "${k}"`);
      if (typeof v !== 'string') throw new MetricsOptionsError(`options.defaultLabels.${k} must be a string`);
    }
  }
  const runtimeNames = options.runtimeNames ?? 'promlint';
  if (runtimeNames !== 'promlint' && runtimeNames !== 'prom-client') throw new MetricsOptionsError("options.runtimeNames must be 'promlint' or 'prom-client'");
  const registry = options.registry ?? new Registry();
  const include = [...(options.include ?? [])].filter((r) => r !== registry);
  const defaultLabels = { ...(options.defaultLabels ?? {}) };

  const handle: Metrics = {
    registry,
    defaultLabels,
    counter<L extends string>(def: CounterDefinition<L>): Counter<L> {
      return getOrCreate(registry, 'counter', def, () =>
        new Counter<L>({ name: def.name, help: def.help, labelNames: [...(def.labelNames ?? [])], registers: [], ...(def.collect ? { collect: def.collect } : {}) }),
      );
    },
    gauge<L extends string>(def: GaugeDefinition<L>): Gauge<L> {
      return getOrCreate(registry, 'gauge', def, () =>
        new Gauge<L>({ name: def.name, help: def.help, labelNames: [...(def.labelNames ?? [])], registers: [], aggregator: def.aggregator ?? 'sum', ...(def.collect ? { collect: def.collect } : {}) }),
      );
    },
    histogram<L extends string>(def: HistogramDefinition<L>): Histogram<L> {
      const buckets = def.buckets ?? DEFAULT_BUCKETS;
      assertBuckets(buckets, () => new MetricsError(`histogram "${def.name}": buckets must be a non-empty ascending list of finite numbers`, { code: 'METRICS_INVALID_DEFINITION' }));
      return getOrCreate(
        registry,
        'histogram',
        def,
        () => new Histogram<L>({ name: def.name, help: def.help, labelNames: [...(def.labelNames ?? [])], buckets: [...buckets], registers: [], enableExemplars: def.exemplars === true }),
        { buckets, exemplars: def.exemplars === true },
      );
    },
    async scrape(accept, extraFamilies = []) {
      const format = negotiateFormat(accept);
      const body = await expose([registry, ...include], format, { defaultLabels, onConflict: (name) => conflicts.inc({ metric: name }) }, extraFamilies);
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
  const stopRuntime = runtime === false ? undefined : startRuntimeMetrics(handle, runtime === true ? {} : runtime, runtimeNames);
  return handle;
}
