/** Base class of every error @org/tiered-rate-limit throws; `code` is stable across versions, `cause` keeps the original error. */
export class RateLimitError extends Error {
  override readonly name: string = 'RateLimitError';
  readonly code: string;

  constructor(message: string, options: { code?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = options.code ?? 'RATE_LIMIT_ERROR';
  }
}
