import type { Registry } from 'prom-client';
import { MetricConflictError, MetricsError } from './errors.js';
import type { BaseDefinition } from './types.js';

// How a metric definition is described, validated and registered once per registry: the get-or-create primitive
// behind `Metrics.counter/gauge/histogram` and the HTTP recorder's histogram.

/** Marks a metric with the definition it was created from, so an identical definition reuses it. */
export const DEFINITION = Symbol.for('@org/metrics.definition');
/** Buckets of a histogram that sets none, in seconds. */
export const DEFAULT_BUCKETS: readonly number[] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

type AnyMetric = {
  name: string;
  help: string;
  type: string;
  labelNames?: readonly string[];
  upperBounds?: readonly number[];
  enableExemplars?: boolean;
  [DEFINITION]?: string;
};

export function describe(
  type: string,
  help: string,
  labelNames: readonly string[],
  buckets?: readonly number[],
  exemplars = false,
): string {
  const parts = [`help=${JSON.stringify(help)}`, `labels=[${[...labelNames].sort().join(',')}]`];
  if (buckets) parts.push(`buckets=[${buckets.join(',')}]`);
  // An exemplar histogram's observe() takes an object, so mixing the two would break callers.
  if (exemplars) parts.push('exemplars=true');
  return `${type}(${parts.join(', ')})`;
}

function describeExisting(metric: AnyMetric): string {
  return (
    metric[DEFINITION] ??
    describe(
      metric.type,
      metric.help,
      metric.labelNames ?? [],
      metric.type === 'histogram' ? metric.upperBounds : undefined,
      metric.enableExemplars === true,
    )
  );
}

/** Throws `error()` unless `buckets` is a non-empty ascending list of finite numbers. */
export function assertBuckets(buckets: unknown, error: () => Error): asserts buckets is readonly number[] {
  if (
    !Array.isArray(buckets) ||
    buckets.length === 0 ||
    buckets.some((b, i) => typeof b !== 'number' || !Number.isFinite(b) || (i > 0 && b <= buckets[i - 1]!))
  ) {
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
export function getOrCreate<M>(
  registry: Registry,
  type: string,
  def: BaseDefinition<string>,
  create: () => M,
  options: GetOrCreateOptions = {},
): M {
  if (!def || typeof def.name !== 'string' || typeof def.help !== 'string' || def.help.length === 0) {
    throw new MetricsError('a metric definition needs a string name and a non-empty help', {
      code: 'METRICS_INVALID_DEFINITION',
    });
  }
  const wanted = describe(type, def.help, def.labelNames ?? [], options.buckets, options.exemplars);
  const existing = registry.getSingleMetric(def.name) as unknown as AnyMetric | undefined;
  if (existing) {
    const { reuse, describeRefused } = options;
    if (reuse && !reuse(existing))
      throw new MetricConflictError(
        def.name,
        describeRefused ? describeRefused(existing) : describeExisting(existing),
        wanted,
      );
    const have = describeExisting(existing);
    if (have !== wanted) throw new MetricConflictError(def.name, have, wanted);
    return existing as unknown as M;
  }
  let metric: M;
  try {
    metric = create();
  } catch (error) {
    throw new MetricsError(`invalid definition of metric "${def.name}": ${(error as Error).message}`, {
      code: 'METRICS_INVALID_DEFINITION',
      cause: error,
    });
  }
  Object.defineProperty(metric, DEFINITION, { value: wanted, enumerable: false });
  // registers: [] then an explicit register: prom-client refuses exemplars on a registry whose
  // content type is the Prometheus one, but the content type here is chosen per scrape.
  registry.registerMetric(metric as never);
  return metric;
}
