import type { Logger } from 'pino';

/** Error reporting to Sentry; present only when SENTRY_DSN is set. */
export interface ErrorReporter {
  capture(error: unknown, requestId: string): void;
  flush(timeoutMs: number): Promise<void>;
}

/**
 * Loads @sentry/node only when a DSN is configured, so an unconfigured process pays nothing for it. Request data
 * (headers, cookies, query strings, bodies) is not collected; events carry the request id as a tag.
 */
export async function createSentryReporter(options: {
  dsn: string;
  environment: string;
  release: string;
  logger: Logger;
}): Promise<ErrorReporter> {
  const Sentry = await import('@sentry/node');
  Sentry.init({
    dsn: options.dsn,
    environment: options.environment,
    release: options.release,
    tracesSampleRate: 0,
    // Credentials travel in cookies, headers, query strings and bodies: none of them leave the process.
    dataCollection: { userInfo: false, cookies: false, httpHeaders: false, httpBodies: [], urlQueryParams: false },
  });
  options.logger.info('error reporting to Sentry enabled');
  return {
    capture(error, requestId) {
      Sentry.captureException(error, { tags: { requestId } });
    },
    async flush(timeoutMs) {
      await Sentry.flush(timeoutMs);
    },
  };
}
