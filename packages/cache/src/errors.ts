/** Base class of every error @org/cache throws; `code` is stable across versions, `cause` keeps the original error. */
export class CacheError extends Error {
  override readonly name: string = 'CacheError';
  readonly code: string;

  constructor(message: string, options: { code?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = options.code ?? 'CACHE_ERROR';
  }
}

/** `createCache` or `defineKeys` received options it cannot work with. */
export class CacheOptionsError extends CacheError {
  override readonly name = 'CacheOptionsError';
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, { code: 'CACHE_INVALID_OPTIONS', ...options });
  }
}

/** A key (or key part, or tenant id) is not a usable non-empty string. */
export class CacheKeyError extends CacheError {
  override readonly name = 'CacheKeyError';
  constructor(message: string) {
    super(message, { code: 'CACHE_INVALID_KEY' });
  }
}

/** `set`/`wrap` got a value that cannot round-trip identically (a function, a class instance, a cycle...). */
export class CacheSerializationError extends CacheError {
  override readonly name = 'CacheSerializationError';
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, { code: 'CACHE_UNSERIALIZABLE', ...options });
  }
}

/** The factory of `wrap` ran longer than `hardTimeoutMs` (it keeps running; its value is stored when it settles). */
export class CacheFactoryTimeoutError extends CacheError {
  override readonly name = 'CacheFactoryTimeoutError';
  constructor(readonly timeoutMs: number) {
    super(`cache factory did not settle within ${timeoutMs} ms`, { code: 'CACHE_FACTORY_TIMEOUT' });
  }
}

/** The cache was closed; it no longer accepts calls. */
export class CacheClosedError extends CacheError {
  override readonly name = 'CacheClosedError';
  constructor() {
    super('the cache is closed', { code: 'CACHE_CLOSED' });
  }
}

/** An optional peer dependency (ioredis, prom-client) is needed by the options but is not installed. */
export class CachePeerMissingError extends CacheError {
  override readonly name = 'CachePeerMissingError';
  constructor(peer: string, cause: unknown) {
    super(`the option needs the optional peer dependency "${peer}"; install it next to @org/cache`, {
      code: 'CACHE_PEER_MISSING',
      cause,
    });
  }
}

/**
 * Internal: a Redis operation failed or missed its deadline. Never reaches callers of get/set/wrap;
 * it is what `error` events carry.
 */
export class CacheRedisError extends CacheError {
  override readonly name = 'CacheRedisError';
  constructor(
    message: string,
    code: 'CACHE_REDIS_TIMEOUT' | 'CACHE_REDIS_ERROR' | 'CACHE_REDIS_UNAVAILABLE' | 'CACHE_REDIS_VERSION',
    cause?: unknown,
  ) {
    super(message, { code, cause });
  }
}
