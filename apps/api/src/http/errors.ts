/** An error with an HTTP status and a stable code; its message is safe to show to the client. */
export class HttpError extends Error {
  override readonly name = 'HttpError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    options?: { cause?: unknown; headers?: Record<string, string>; details?: Record<string, unknown> },
  ) {
    super(message, options);
    this.headers = options?.headers ?? {};
    this.details = options?.details;
  }
  /** Extra response headers (Retry-After, WWW-Authenticate). */
  readonly headers: Record<string, string>;
  /** Extra fields merged into `error` of the body (validation issues, limits). */
  readonly details: Record<string, unknown> | undefined;
}

export const notFound = (what = 'Route') => new HttpError(404, 'NOT_FOUND', `${what} not found`);
export const unauthorized = (message = 'Authentication required') => new HttpError(401, 'UNAUTHORIZED', message);

/** The one error body every HTTP error uses. */
export interface ErrorBody {
  success: false;
  error: { code: string; message: string; requestId: string } & Record<string, unknown>;
}
