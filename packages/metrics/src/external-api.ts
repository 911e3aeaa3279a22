import type { Counter, Histogram } from 'prom-client';
import { MetricsOptionsError } from './errors.js';
import { BoundedLabel, sanitizePath } from './labels.js';
import type { ExternalApiErrorType, ExternalApiMetrics, ExternalApiMetricsOptions, Metrics } from './types.js';

export function classifyError(statusCode: number | undefined, error: unknown): ExternalApiErrorType | undefined {
  if (statusCode === 429) return 'rate_limited';
  if (statusCode !== undefined && statusCode >= 500) return 'server_error';
  if (statusCode !== undefined && statusCode >= 400) return 'client_error';
  if (error === undefined || error === null) return undefined;
  const e = error as { name?: string; code?: string; status?: number; statusCode?: number };
  const status = e.status ?? e.statusCode;
  if (typeof status === 'number' && status >= 400) return classifyError(status, undefined);
  if (
    e.name === 'AbortError' ||
    e.name === 'TimeoutError' ||
    e.code === 'ETIMEDOUT' ||
    e.code === 'UND_ERR_CONNECT_TIMEOUT' ||
    e.code === 'UND_ERR_HEADERS_TIMEOUT'
  )
    return 'timeout';
  if (typeof e.code === 'string' && /^(E[A-Z]+|UND_ERR_[A-Z_]+)$/.test(e.code)) return 'network';
  return 'other';
}

/** `<name>_api_requests_total`, `<name>_api_duration_seconds` and `<name>_api_errors_total` for one external API. */
export function createExternalApiMetrics(metrics: Metrics, options: ExternalApiMetricsOptions): ExternalApiMetrics {
  if (!options || typeof options.name !== 'string' || !/^[a-z][a-z0-9_]*$/.test(options.name)) {
    throw new MetricsOptionsError('options.name must be lower case letters, digits and "_" (for example "ghl")');
  }
  const maxEndpoints = options.maxEndpoints ?? 100;
  if (!Number.isInteger(maxEndpoints) || maxEndpoints < 1)
    throw new MetricsOptionsError('options.maxEndpoints must be a positive integer');
  const n = options.name;
  const requests: Counter<'endpoint' | 'status_code'> = metrics.counter({
    name: `${n}_api_requests_total`,
    help: `Calls to the ${n} API, by endpoint template and status code (0 = no response).`,
    labelNames: ['endpoint', 'status_code'],
  });
  const duration: Histogram<'endpoint'> = metrics.histogram({
    name: `${n}_api_duration_seconds`,
    help: `Duration of calls to the ${n} API, in seconds.`,
    labelNames: ['endpoint'],
    buckets: options.buckets ?? [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
  });
  const errors: Counter<'endpoint' | 'error_type'> = metrics.counter({
    name: `${n}_api_errors_total`,
    help: `Failed calls to the ${n} API, by endpoint template and error class.`,
    labelNames: ['endpoint', 'error_type'],
  });
  const endpoints = new BoundedLabel(maxEndpoints);

  const record: ExternalApiMetrics['record'] = (endpoint, durationSeconds, statusCode, error) => {
    const ep = endpoints.bound(sanitizePath(String(endpoint)));
    const status =
      typeof statusCode === 'number' && Number.isInteger(statusCode) && statusCode >= 100 && statusCode <= 599
        ? String(statusCode)
        : '0';
    requests.inc({ endpoint: ep, status_code: status });
    if (Number.isFinite(durationSeconds) && durationSeconds >= 0) duration.observe({ endpoint: ep }, durationSeconds);
    const type = classifyError(status === '0' ? undefined : Number(status), error);
    if (type) errors.inc({ endpoint: ep, error_type: type });
    else if (status === '0' && error === undefined) errors.inc({ endpoint: ep, error_type: 'other' });
  };

  return {
    record,
    async time(endpoint, call, statusOf) {
      const started = performance.now();
      try {
        const result = await call();
        record(endpoint, (performance.now() - started) / 1000, statusOf ? statusOf(result) : 200);
        return result;
      } catch (error) {
        const e = error as { status?: number; statusCode?: number };
        record(endpoint, (performance.now() - started) / 1000, e?.status ?? e?.statusCode, error);
        throw error;
      }
    },
  };
}
