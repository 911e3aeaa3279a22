/** Base class of every error @org/metrics throws; `code` is stable across versions, `cause` keeps the original error. */
export class MetricsError extends Error {
  override readonly name: string = 'MetricsError';
  readonly code: string;

  constructor(message: string, options: { code?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = options.code ?? 'METRICS_ERROR';
  }
}
