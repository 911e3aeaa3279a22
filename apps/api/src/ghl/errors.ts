/** Stable codes of every error the GHL integration throws. */
export type GhlErrorCode =
  | 'GHL_INVALID_OPTIONS'
  | 'GHL_RATE_LIMITED'
  | 'GHL_DAILY_LIMIT'
  | 'GHL_TIMEOUT'
  | 'GHL_NETWORK'
  | 'GHL_HTTP_ERROR'
  | 'GHL_UNAUTHORIZED'
  | 'GHL_NOT_CONNECTED'
  | 'GHL_REFRESH_REJECTED'
  | 'GHL_OAUTH_FAILED'
  | 'GHL_INVALID_RESPONSE'
  | 'TOKEN_DECRYPT_FAILED'
  | 'TOKEN_UNKNOWN_KEY';

/**
 * Base error of the GHL integration: a stable `code`, the HTTP `status` GHL answered (when it did) and the `cause`.
 * Messages never contain tokens or secrets.
 */
export class GhlError extends Error {
  override readonly name = 'GhlError';
  constructor(
    readonly code: GhlErrorCode,
    message: string,
    options?: { cause?: unknown; status?: number; endpoint?: string; retryAfterMs?: number },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.status = options?.status;
    this.endpoint = options?.endpoint;
    this.retryAfterMs = options?.retryAfterMs;
  }
  /** GHL's HTTP status, when an answer came. */
  readonly status: number | undefined;
  /** The endpoint label (method and path template), for logs and metrics. */
  readonly endpoint: string | undefined;
  /** How long GHL asked us to wait (429), when known. */
  readonly retryAfterMs: number | undefined;
}
