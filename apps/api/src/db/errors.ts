/** The database cannot serve this request now (down, restarting, overloaded, too slow); the client may retry. */
export class DatabaseUnavailableError extends Error {
  override readonly name = 'DatabaseUnavailableError';
  constructor(
    /** `DATABASE_UNAVAILABLE` (cannot connect), `DATABASE_BUSY` (pool and queue full) or `DATABASE_TIMEOUT` (statement_timeout). */
    readonly code: 'DATABASE_UNAVAILABLE' | 'DATABASE_BUSY' | 'DATABASE_TIMEOUT',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

const CONNECTION_ERRNOS = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
]);

/** SQLSTATE / errno of an error from `pg`, if any. */
function codeOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/**
 * Whether the error means "the connection or server went away" rather than "this query is wrong":
 * 08xxx connection exceptions, 57P01-57P03 admin shutdown / crash / cannot connect now, 53300 too many connections,
 * a database closed to new connections, socket errnos,
 * and pg's own messages for a connection that died or a connect that timed out.
 */
export function isConnectionError(error: unknown): boolean {
  const code = codeOf(error);
  if (
    code &&
    (code.startsWith('08') ||
      code === '57P01' ||
      code === '57P02' ||
      code === '57P03' ||
      code === '53300' ||
      CONNECTION_ERRNOS.has(code))
  )
    return true;
  const message = error instanceof Error ? error.message : '';
  // A database closed to new connections (ALLOW_CONNECTIONS false, during maintenance) answers the connect with 55000.
  if (code === '55000' && /is not currently accepting connections/i.test(message)) return true;
  return /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|connection is closed|Client was closed/i.test(
    message,
  );
}

/** Maps a `pg` error to `DatabaseUnavailableError` when it is an availability problem; other errors pass through. */
export function classifyDatabaseError(error: unknown): unknown {
  if (error instanceof DatabaseUnavailableError) return error;
  if (codeOf(error) === '57014')
    return new DatabaseUnavailableError('DATABASE_TIMEOUT', 'The database did not answer in time', { cause: error });
  if (isConnectionError(error))
    return new DatabaseUnavailableError('DATABASE_UNAVAILABLE', 'The database is unavailable', { cause: error });
  return error;
}
