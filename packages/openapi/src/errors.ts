/** Base class of every error @org/openapi throws; `code` is stable across versions, `cause` keeps the original error. */
export class OpenApiError extends Error {
  override readonly name: string = 'OpenApiError';
  readonly code: string;

  constructor(message: string, options: { code?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = options.code ?? 'OPENAPI_ERROR';
  }
}
