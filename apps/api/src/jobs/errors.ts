/** Errors of the analysis queue, with a stable `code`. */
export class QueueError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'QueueError';
    this.code = code;
  }
}

/**
 * Thrown by a processor for a failure that another attempt cannot fix (the workflow is gone, its definition is
 * invalid): the job fails at once instead of retrying.
 */
export class PermanentJobError extends QueueError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('JOB_PERMANENT_FAILURE', message, options);
    this.name = 'PermanentJobError';
  }
}
