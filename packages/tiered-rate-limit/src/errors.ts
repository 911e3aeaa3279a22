/** Base class of every error @org/tiered-rate-limit throws; `code` is stable across versions, `cause` keeps the original error. */
export class RateLimitError extends Error {
  override readonly name: string = 'RateLimitError';
  readonly code: string;

  constructor(message: string, options: { code?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = options.code ?? 'RATE_LIMIT_ERROR';
  }
}

/** An options object or tier table was rejected at construction. `path` names the offending field. */
export class InvalidOptionsError extends RateLimitError {
  override readonly name: string = 'InvalidOptionsError';
  constructor(
    readonly path: string,
    message: string,
    options: { cause?: unknown } = {},
  ) {
    super(`${path}: ${message}`, { code: 'RATE_LIMIT_INVALID_OPTIONS', ...options });
  }
}

/** The framework trusts every proxy (Express `trust proxy` or Fastify `trustProxy` set to `true`), which lets any client choose its own IP (and so its own rate-limit key). */
export class UnsafeTrustProxyError extends RateLimitError {
  override readonly name: string = 'UnsafeTrustProxyError';
  constructor(setting = "Express 'trust proxy'") {
    super(
      `${setting} is true: every client can pick its IP with X-Forwarded-For and bypass IP-keyed limits. Set it to the number of proxies in front of the app (e.g. 1) or to their addresses.`,
      { code: 'RATE_LIMIT_UNSAFE_TRUST_PROXY' },
    );
  }
}

/** A check named a tier or policy that the tier table does not define. */
export class UnknownTierError extends RateLimitError {
  override readonly name: string = 'UnknownTierError';
  constructor(message: string) {
    super(message, { code: 'RATE_LIMIT_UNKNOWN_TIER' });
  }
}

/** The Redis store did not answer within the deadline or failed; the limiter maps this to the policy's failure mode. */
export class StoreUnavailableError extends RateLimitError {
  override readonly name: string = 'StoreUnavailableError';
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, { code: 'RATE_LIMIT_STORE_UNAVAILABLE', ...options });
  }
}
