import type { MetricsErrorCode } from './types.js';

/** Base class of every error @org/metrics throws; `code` is stable across versions, `cause` keeps the original error. */
export class MetricsError extends Error {
  override readonly name: string = 'MetricsError';
  readonly code: string;

  constructor(message: string, options: { code?: MetricsErrorCode | (string & {}); cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = options.code ?? 'METRICS_ERROR';
  }
}

/** Bad options passed to a factory; thrown at construction, never at request time. */
export class MetricsOptionsError extends MetricsError {
  override readonly name = 'MetricsOptionsError';
  constructor(message: string, cause?: unknown) {
    super(message, { code: 'METRICS_INVALID_OPTIONS', cause });
  }
}

/** A metric name is already registered with a different definition (type, help, labels or buckets). */
export class MetricConflictError extends MetricsError {
  override readonly name = 'MetricConflictError';
  /** The metric name both definitions use. */
  readonly metricName: string;
  /** The definition already in the registry, as a readable string. */
  readonly existing: string;
  /** The definition that was refused. */
  readonly requested: string;
  constructor(metricName: string, existing: string, requested: string) {
    super(
      `metric "${metricName}" is already registered as ${existing}; refusing the conflicting definition ${requested}`,
      {
        code: 'METRICS_CONFLICT',
      },
    );
    this.metricName = metricName;
    this.existing = existing;
    this.requested = requested;
  }
}
