import type { Emitter } from './emitter.js';
import { CacheOptionsError } from './errors.js';
import type { CacheLogger } from './types.js';

export function checkLogger(logger: unknown): CacheLogger | undefined {
  if (logger === undefined) return undefined;
  const l = logger as Partial<CacheLogger> | null;
  if (
    typeof l !== 'object' ||
    l === null ||
    typeof l.error !== 'function' ||
    typeof l.warn !== 'function' ||
    typeof l.info !== 'function'
  ) {
    throw new CacheOptionsError('createCache: "logger" must have error, warn and info methods (a pino logger fits)');
  }
  return l as CacheLogger;
}

const MAX_MESSAGE = 300;

/**
 * A message fit for a log line: credentials in URLs (`redis://user:password@host`) and `password=`/`AUTH` arguments
 * are masked, and the text is cut at 300 characters.
 */
export function redact(message: string): string {
  return message
    .slice(0, MAX_MESSAGE * 2)
    .replace(/([a-z][a-z0-9+.-]*:\/\/)[^@/\s]*@/gi, '$1***@')
    .replace(/\b(password|pass|pwd|auth|token|secret)(["']?\s*[=:]\s*|\s+)("[^"]*"|'[^']*'|\S+)/gi, '$1$2***')
    .slice(0, MAX_MESSAGE);
}

/** Calls a logger method, never letting a broken logger break the cache. */
export function safeLog(
  logger: CacheLogger,
  level: 'error' | 'warn' | 'info' | 'debug',
  fields: Record<string, unknown>,
  message: string,
): void {
  try {
    const fn = logger[level];
    if (typeof fn === 'function') fn.call(logger, fields, message);
  } catch {
    // a logger that throws must not turn a cache call into a failure
  }
}

/**
 * Logs the availability of Redis once per change: one `warn` when it becomes unreachable (or is unreachable from the
 * start), one `info` when it is back, with how long it was away. Individual command failures are not logged (an
 * outage would flood the log); they stay available as `error` events and metrics.
 */
export function attachLogger(emitter: Emitter, logger: CacheLogger, cache: string): void {
  let state: 'starting' | 'up' | 'down' = 'starting';
  let downSince = 0;
  emitter.on('error', ({ error, operation }) => {
    if (state !== 'starting' || operation !== 'connection') return;
    state = 'down';
    downSince = Date.now();
    safeLog(
      logger,
      'warn',
      { cache, code: error.code, err: redact(error.message) },
      '@org/cache: Redis is not reachable; serving from memory until it is',
    );
  });
  emitter.on('redis:down', ({ reason }) => {
    if (state === 'down') return;
    state = 'down';
    downSince = Date.now();
    safeLog(logger, 'warn', { cache, reason: redact(reason) }, '@org/cache: Redis is unavailable; serving from memory');
  });
  emitter.on('redis:up', () => {
    if (state === 'down') {
      safeLog(
        logger,
        'info',
        { cache, downtimeMs: Date.now() - downSince },
        '@org/cache: Redis is back; serving from Redis',
      );
    } else if (state === 'starting') {
      safeLog(logger, 'debug', { cache }, '@org/cache: connected to Redis');
    }
    state = 'up';
  });
}
