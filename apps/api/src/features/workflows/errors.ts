/** Stable codes of the workflow feature's domain errors (src/http/error-catalog.ts maps each to its HTTP answer). */
export type WorkflowErrorCode =
  /** A workflow, definition, analysis or location the caller asked for does not exist (for this location). */
  | 'NOT_FOUND'
  /** A caller-supplied value (a pagination cursor) is not one this service issued. */
  | 'VALIDATION_ERROR'
  /** The version asked for is no longer stored. */
  | 'WORKFLOW_VERSION_SUPERSEDED'
  /** The location stores as many imported workflows as it may. */
  | 'WORKFLOW_LIMIT_REACHED'
  /** GHL refused the stored tokens: the location must install the app again. */
  | 'GHL_RECONNECT_REQUIRED'
  /** GHL's rate limit for the location is spent (`retryAfterMs` says when to come back). */
  | 'GHL_RATE_LIMITED'
  | 'GHL_TIMEOUT'
  | 'GHL_UNAVAILABLE';

/**
 * A failure of the workflow feature: a stable `code`, a `message` safe to show to the caller, the original in `cause`.
 * The feature throws only these (and the analyzer's and analysis pool's errors); it never builds HTTP errors.
 */
export class WorkflowError extends Error {
  override readonly name = 'WorkflowError';
  constructor(
    readonly code: WorkflowErrorCode,
    message: string,
    options?: { cause?: unknown; retryAfterMs?: number },
  ) {
    super(message, options);
    this.retryAfterMs = options?.retryAfterMs;
  }
  /** When a retry may succeed (GHL_RATE_LIMITED). */
  readonly retryAfterMs: number | undefined;
}

/** `<What> not found` (the message the API has always sent). */
export const notFoundError = (what: string) => new WorkflowError('NOT_FOUND', `${what} not found`);
