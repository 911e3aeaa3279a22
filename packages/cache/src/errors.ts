/** Base class of every error @org/cache throws; `code` is stable across versions, `cause` keeps the original error. */
export class CacheError extends Error {
  override readonly name: string = 'CacheError';
  readonly code: string;

  constructor(message: string, options: { code?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = options.code ?? 'CACHE_ERROR';
  }
}
