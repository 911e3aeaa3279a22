import { GhlError } from './errors.js';
import { createMemoryRateLimiter, RateLimitWaitTooLong, sleep, type GhlRateLimiter } from './rate-limiter.js';

/** The API version header value every GHL API 2.0 request carries. */
export const GHL_API_VERSION = '2021-07-28';

/** Supplies the access token of a location; `rejected` is the token GHL just refused with 401 (refresh it). */
export type AccessTokenProvider = (locationId: string, options?: { rejected?: string }) => Promise<string>;

/** One finished request, for metrics (ghl_api_requests_total, ghl_api_duration_seconds, ghl_api_errors_total). */
export interface GhlRequestEvent {
  /** Method and path template, e.g. `GET /workflows/`: low cardinality, no ids. */
  endpoint: string;
  durationMs: number;
  /** HTTP status, or 0 when no answer came (timeout, network). */
  statusCode: number;
  /** The error code when the attempt failed (a 4xx/5xx, timeout or network failure). */
  error?: string;
}

/** Options of `createGhlClient`. */
export interface GhlClientOptions {
  /** API base URL. @default 'https://services.leadconnectorhq.com' */
  baseUrl?: string;
  /** Access tokens per location (the token store). */
  tokens: AccessTokenProvider;
  /** Client-side budget per location. @default in-process, 100 requests per 10 s */
  limiter?: GhlRateLimiter;
  /** Timeout of one attempt, headers and body included. @default 10000 */
  timeoutMs?: number;
  /** Attempts per request, the first included (429, and 5xx/network errors of idempotent requests). @default 4 */
  maxAttempts?: number;
  /** Full-jitter backoff base: attempt n waits random() x min(maxDelayMs, baseDelayMs x 2^n). @default 250 */
  baseDelayMs?: number;
  /** Backoff cap. @default 5000 */
  maxDelayMs?: number;
  /** Longest wait honoured after a 429 before giving up with GHL_RATE_LIMITED. @default 15000 */
  maxRateLimitWaitMs?: number;
  /** Called once per attempt; must not throw. @default none */
  onRequest?: (event: GhlRequestEvent) => void;
  /** fetch implementation. @default globalThis.fetch */
  fetch?: typeof fetch;
  /** Random source in [0, 1) for the jitter. @default Math.random */
  random?: () => number;
}

export interface GhlRequest {
  method?: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** Path with ids filled in, e.g. `/locations/abc/customFields`. */
  path: string;
  /** Low-cardinality label for metrics, e.g. `GET /locations/:id/customFields`. @default method + path */
  endpoint?: string;
  query?: Record<string, string>;
  body?: unknown;
  /** Whether a 5xx or network failure may be retried. @default true for GET, false otherwise */
  idempotent?: boolean;
  /** Another base URL for this request (the builder backend). */
  baseUrl?: string;
  /** Extra headers (the builder's token header). */
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

/** The GHL API 2.0 calls the app makes, per location. */
export interface GhlClient {
  request<T = unknown>(locationId: string, request: GhlRequest): Promise<T>;
  listWorkflows(locationId: string): Promise<GhlWorkflowSummary[]>;
  /** The location's inventory for the analyzer's reference checks (six list calls, in parallel). */
  inventory(locationId: string): Promise<GhlInventory>;
}

export interface GhlWorkflowSummary {
  id: string;
  name: string;
  status: string;
  version: number;
  createdAt?: string;
  updatedAt?: string;
  locationId: string;
}

export interface GhlInventory {
  customFields: unknown[];
  customValues: unknown[];
  calendars: unknown[];
  pipelines: unknown[];
  users: unknown[];
  forms: unknown[];
}

function headerNumber(headers: Headers, name: string): number | undefined {
  const raw = headers.get(name);
  if (raw === null || raw.trim() === '') return undefined;
  const n = Number(raw);
  return Number.isFinite(n) && n >= 0 ? n : undefined;
}

/** Retry-After in seconds or as an HTTP date; GHL does not document it, so the rate-limit interval is the fallback. */
function retryAfterMs(headers: Headers): number | undefined {
  const raw = headers.get('retry-after');
  if (raw) {
    const seconds = Number(raw);
    if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
    const date = Date.parse(raw);
    if (!Number.isNaN(date)) return Math.max(0, date - Date.now());
  }
  return headerNumber(headers, 'x-ratelimit-interval-milliseconds');
}

function positive(name: string, value: number, integer = false): number {
  if (!Number.isFinite(value) || value <= 0 || (integer && !Number.isInteger(value))) {
    throw new GhlError('GHL_INVALID_OPTIONS', `${name} must be a positive ${integer ? 'integer' : 'number'}`);
  }
  return value;
}

/** A thin fetch client for GHL API 2.0 with per-location budget, retries, timeouts and token refresh on 401. */
export function createGhlClient(options: GhlClientOptions): GhlClient {
  const baseUrl = (options.baseUrl ?? 'https://services.leadconnectorhq.com').replace(/\/+$/, '');
  if (!/^https?:\/\//.test(baseUrl)) throw new GhlError('GHL_INVALID_OPTIONS', 'baseUrl must be an http(s) URL');
  if (typeof options.tokens !== 'function') throw new GhlError('GHL_INVALID_OPTIONS', 'tokens must be a function');
  const limiter = options.limiter ?? createMemoryRateLimiter();
  const timeoutMs = positive('timeoutMs', options.timeoutMs ?? 10_000);
  const maxAttempts = positive('maxAttempts', options.maxAttempts ?? 4, true);
  const baseDelayMs = positive('baseDelayMs', options.baseDelayMs ?? 250);
  const maxDelayMs = positive('maxDelayMs', options.maxDelayMs ?? 5_000);
  const maxRateLimitWaitMs = positive('maxRateLimitWaitMs', options.maxRateLimitWaitMs ?? 15_000);
  const doFetch = options.fetch ?? globalThis.fetch;
  const random = options.random ?? Math.random;
  const observe = (event: GhlRequestEvent) => {
    try {
      options.onRequest?.(event);
    } catch {
      // Metrics must never break a request.
    }
  };

  async function request<T>(locationId: string, req: GhlRequest): Promise<T> {
    const method = req.method ?? 'GET';
    const endpoint = req.endpoint ?? `${method} ${req.path}`;
    const idempotent = req.idempotent ?? method === 'GET';
    const url = new URL(`${(req.baseUrl ?? baseUrl).replace(/\/+$/, '')}${req.path}`);
    for (const [k, v] of Object.entries(req.query ?? {})) url.searchParams.set(k, v);
    let token = await options.tokens(locationId);
    let refreshedOn401 = false;

    for (let attempt = 1; ; attempt++) {
      try {
        await limiter.acquire(locationId, { signal: req.signal, maxWaitMs: maxRateLimitWaitMs });
      } catch (error) {
        if (!(error instanceof RateLimitWaitTooLong)) throw error;
        // Paused past what a request may wait (GHL's daily limit, a long interval): fail fast, send nothing.
        throw new GhlError('GHL_RATE_LIMITED', `GHL request budget of this location is paused on ${endpoint}`, {
          cause: error,
          endpoint,
          retryAfterMs: error.waitMs,
        });
      }
      const started = performance.now();
      const timeout = AbortSignal.timeout(timeoutMs);
      const signal = req.signal ? AbortSignal.any([req.signal, timeout]) : timeout;
      let status = 0;
      let failure: GhlError;
      try {
        const res = await doFetch(url, {
          method,
          headers: {
            Authorization: `Bearer ${token}`,
            Version: GHL_API_VERSION,
            Accept: 'application/json',
            ...(req.body !== undefined ? { 'Content-Type': 'application/json' } : {}),
            ...req.headers,
          },
          body: req.body === undefined ? undefined : JSON.stringify(req.body),
          signal,
        });
        status = res.status;
        // The body is read under the same signal: a server that trickles bytes times out like one that hangs.
        const text = await res.text();
        const remaining = headerNumber(res.headers, 'x-ratelimit-remaining');
        const interval = headerNumber(res.headers, 'x-ratelimit-interval-milliseconds');
        if (remaining === 0) limiter.pauseUntil(locationId, Date.now() + (interval ?? 10_000));
        if (res.ok) {
          observe({ endpoint, durationMs: performance.now() - started, statusCode: status });
          if (text === '') return undefined as T;
          try {
            return JSON.parse(text) as T;
          } catch (error) {
            throw new GhlError('GHL_INVALID_RESPONSE', `GHL answered ${endpoint} with a body that is not JSON`, {
              cause: error,
              status,
              endpoint,
            });
          }
        }
        if (status === 429) {
          const daily = headerNumber(res.headers, 'x-ratelimit-daily-remaining');
          if (daily === 0) {
            // GHL does not document when the daily window resets: hold the location until the next UTC day.
            const tomorrow = new Date();
            tomorrow.setUTCHours(24, 0, 0, 0);
            limiter.pauseUntil(locationId, tomorrow.getTime());
            failure = new GhlError('GHL_DAILY_LIMIT', 'GHL daily request limit reached for this location', {
              status,
              endpoint,
              retryAfterMs: tomorrow.getTime() - Date.now(),
            });
          } else {
            const wait = retryAfterMs(res.headers) ?? 10_000;
            limiter.pauseUntil(locationId, Date.now() + wait);
            failure = new GhlError('GHL_RATE_LIMITED', `GHL rate limit reached on ${endpoint}`, {
              status,
              endpoint,
              retryAfterMs: wait,
            });
          }
        } else if (status === 401) {
          failure = new GhlError('GHL_UNAUTHORIZED', `GHL refused the access token on ${endpoint}`, {
            status,
            endpoint,
          });
        } else {
          failure = new GhlError('GHL_HTTP_ERROR', `GHL answered ${status} on ${endpoint}`, { status, endpoint });
        }
      } catch (error) {
        if (error instanceof GhlError) {
          observe({ endpoint, durationMs: performance.now() - started, statusCode: status, error: error.code });
          throw error;
        }
        if (req.signal?.aborted) throw req.signal.reason;
        failure = timeout.aborted
          ? new GhlError('GHL_TIMEOUT', `GHL did not answer ${endpoint} within ${timeoutMs} ms`, {
              cause: error,
              endpoint,
            })
          : new GhlError('GHL_NETWORK', `GHL could not be reached for ${endpoint}`, { cause: error, endpoint });
      }
      observe({ endpoint, durationMs: performance.now() - started, statusCode: status, error: failure.code });

      // Decide whether to try again, and when.
      if (failure.code === 'GHL_UNAUTHORIZED' && !refreshedOn401) {
        refreshedOn401 = true;
        token = await options.tokens(locationId, { rejected: token });
        continue;
      }
      if (attempt >= maxAttempts || failure.code === 'GHL_DAILY_LIMIT') throw failure;
      if (failure.code === 'GHL_RATE_LIMITED') {
        if ((failure.retryAfterMs ?? 0) > maxRateLimitWaitMs) throw failure;
        // The limiter now holds every request of this location until the interval has passed, this one included.
        continue;
      }
      const retryable =
        idempotent &&
        (failure.code === 'GHL_NETWORK' || (failure.code === 'GHL_HTTP_ERROR' && (failure.status ?? 0) >= 500));
      if (!retryable) throw failure;
      await sleep(random() * Math.min(maxDelayMs, baseDelayMs * 2 ** (attempt - 1)), req.signal);
    }
  }

  const list = async <K extends string>(
    locationId: string,
    key: K,
    path: string,
    endpoint: string,
    query?: Record<string, string>,
  ) => {
    const body = await request<Record<K, unknown[]>>(locationId, { path, endpoint, query });
    const items = body?.[key];
    if (!Array.isArray(items))
      throw new GhlError('GHL_INVALID_RESPONSE', `GHL answered ${endpoint} without a "${key}" list`, { endpoint });
    return items;
  };

  return {
    request,
    async listWorkflows(locationId) {
      return (await list(locationId, 'workflows', '/workflows/', 'GET /workflows/', {
        locationId,
      })) as GhlWorkflowSummary[];
    },
    async inventory(locationId) {
      const id = encodeURIComponent(locationId);
      const [customFields, customValues, calendars, pipelines, users, forms] = await Promise.all([
        list(locationId, 'customFields', `/locations/${id}/customFields`, 'GET /locations/:id/customFields'),
        list(locationId, 'customValues', `/locations/${id}/customValues`, 'GET /locations/:id/customValues'),
        list(locationId, 'calendars', '/calendars/', 'GET /calendars/', { locationId }),
        list(locationId, 'pipelines', '/opportunities/pipelines', 'GET /opportunities/pipelines', { locationId }),
        list(locationId, 'users', '/users/', 'GET /users/', { locationId }),
        list(locationId, 'forms', '/forms/', 'GET /forms/', { locationId }),
      ]);
      return { customFields, customValues, calendars, pipelines, users, forms };
    },
  };
}
