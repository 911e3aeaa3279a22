import type { Counter, Gauge } from 'prom-client';
import { MetricsOptionsError } from '../errors.js';
import { assertBuckets, DEFAULT_BUCKETS, DEFINITION, getOrCreate, type Metrics } from '../metrics.js';
import { isSeriesHistogram, SeriesHistogram, type HistogramSeries } from '../series-histogram.js';

/** Options every HTTP binding (Express, Fastify, Hono) shares. */
export interface HttpRecorderOptions {
  /** Buckets of `http_request_duration_seconds`, in seconds. @default [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] */
  buckets?: readonly number[];
  /** Paths (exact, query string ignored) or patterns that are not measured. @default ['/metrics', '/health', '/healthz', '/live', '/livez', '/ready', '/readyz'] */
  exclude?: readonly (string | RegExp)[];
  /** Route label of requests no route matched (404s, probes). @default '__unmatched__' */
  unmatchedRoute?: string;
  /** Most distinct route labels; later new routes are counted under `overflowRoute`. @default 200 */
  maxRoutes?: number;
  /** Route label used once `maxRoutes` is reached. @default '__overflow__' */
  overflowRoute?: string;
}

export const DEFAULT_EXCLUDE: readonly string[] = ['/metrics', '/health', '/healthz', '/live', '/livez', '/ready', '/readyz'];
/** Method label values; the index is part of a series key, unknown verbs share the last one (`OTHER`). */
const METHOD_LABELS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'TRACE', 'CONNECT', 'OTHER'] as const;
const OTHER_METHOD = METHOD_LABELS.length - 1;
const METHOD_INDEX = new Map<string, number>(METHOD_LABELS.slice(0, OTHER_METHOD).map((m, i) => [m, i]));

type Labels = {
  method: string;
  route: string;
  status_code: string;
};

/** One (method, route, status) combination: its frozen labels, request count and histogram series. */
interface Series {
  labels: Labels;
  count: number;
  histogram: HistogramSeries;
}

const DURATION = 'http_request_duration_seconds';
const DURATION_HELP = 'Duration of HTTP requests from arrival to the response being sent, in seconds.';
const LABEL_NAMES = ['method', 'route', 'status_code'] as const;

/**
 * The duration histogram, observed through series handles (no per-request label hashing). A second
 * middleware on the same registry shares it; an identical prom-client definition registered earlier is
 * refused with the usual conflict error rather than silently observed twice.
 */
function durationHistogram(metrics: Metrics, buckets: readonly number[], exemplars: boolean): SeriesHistogram {
  assertBuckets(buckets, () => new MetricsOptionsError('options.buckets must be a non-empty ascending list of finite numbers'));
  return getOrCreate(metrics.registry, 'histogram', { name: DURATION, help: DURATION_HELP, labelNames: LABEL_NAMES }, () => new SeriesHistogram(DURATION, DURATION_HELP, LABEL_NAMES, buckets, exemplars), {
    buckets,
    exemplars,
    reuse: isSeriesHistogram,
    describeRefused(existing) {
      const have = (existing as { [DEFINITION]?: string })[DEFINITION];
      return have === undefined ? 'a metric registered outside @org/metrics' : `${have} as a plain prom-client histogram (let httpMetrics create it)`;
    },
  });
}

// Symbol.for: several middlewares (or copies of this package) on one registry share the same state.
const SOURCES = Symbol.for('@org/metrics.http-series-sources');
const SYNCED = Symbol.for('@org/metrics.http-synced-collect');
const IN_FLIGHT = Symbol.for('@org/metrics.http-in-flight');
/** Every source has `values()` yielding its series (an array here, a Map in earlier releases). */
type WithSources = { [SOURCES]?: Set<{ values(): Iterable<Series> }> };
type WithInFlight = { [IN_FLIGHT]?: number };

/** The framework-free half of every HTTP binding: RED metrics with bounded route labels. */
export interface HttpRecorder {
  /** Whether a path (without query string) is left unmeasured. */
  excluded(path: string): boolean;
  /** One more request in flight. */
  begin(): void;
  /**
   * One request done (in flight again one less): `route` is its template, undefined when no route
   * matched; `status` 499 when the client went away before the response was written.
   */
  end(method: string, route: string | undefined, status: number, seconds: number, exemplar?: Record<string, string>): void;
}

/**
 * Validates the shared options (throwing MetricsOptionsError), registers `http_request_duration_seconds`,
 * `http_requests_total`, `http_requests_in_flight` and `http_route_overflow_total`, and returns the recorder.
 */
export function createHttpRecorder(metrics: Metrics, options: HttpRecorderOptions, exemplars: boolean): HttpRecorder {
  if (!metrics || typeof metrics.histogram !== 'function') throw new MetricsOptionsError('httpMetrics needs the handle createMetrics() returned');
  const maxRoutes = options.maxRoutes ?? 200;
  if (!Number.isInteger(maxRoutes) || maxRoutes < 1) throw new MetricsOptionsError('options.maxRoutes must be a positive integer');
  const unmatched = options.unmatchedRoute ?? '__unmatched__';
  const overflow = options.overflowRoute ?? '__overflow__';
  if (typeof unmatched !== 'string' || typeof overflow !== 'string') throw new MetricsOptionsError('options.unmatchedRoute and options.overflowRoute must be strings');
  const exclude = options.exclude ?? DEFAULT_EXCLUDE;
  if (!Array.isArray(exclude) || exclude.some((e) => typeof e !== 'string' && !(e instanceof RegExp))) throw new MetricsOptionsError('options.exclude must list strings or RegExps');
  const excludeExact = new Set(exclude.filter((e): e is string => typeof e === 'string'));
  const excludePatterns = exclude.filter((e): e is RegExp => e instanceof RegExp);

  const buckets = options.buckets ?? DEFAULT_BUCKETS;
  const duration = durationHistogram(metrics, buckets, exemplars);
  // Requests are counted in plain numbers on the hot path and copied into prom-client at scrape time:
  // one prom-client call per request (the histogram) instead of four.
  const syncTotal = function syncHttpRequests(this: Counter<string>) {
    this.reset();
    for (const source of (this as unknown as WithSources)[SOURCES] ?? []) for (const s of source.values()) if (s.count > 0) this.inc(s.labels, s.count);
  };
  const syncInFlight = function syncInFlight(this: Gauge<string>) {
    this.set((this as unknown as WithInFlight)[IN_FLIGHT] ?? 0);
  };
  Object.defineProperty(syncTotal, SYNCED, { value: true });
  Object.defineProperty(syncInFlight, SYNCED, { value: true });
  const total = metrics.counter({ name: 'http_requests_total', help: 'HTTP requests completed.', labelNames: LABEL_NAMES, collect: syncTotal });
  const inFlight = metrics.gauge({ name: 'http_requests_in_flight', help: 'HTTP requests being served right now.', collect: syncInFlight });
  // Someone may have registered identical metrics without the scrape-time sync; then count directly.
  const isSynced = (m: unknown) => ((m as { collect?: { [SYNCED]?: boolean } }).collect?.[SYNCED] ?? false) === true;
  const directTotal = !isSynced(total);
  const directInFlight = !isSynced(inFlight);
  const flight = inFlight as unknown as WithInFlight;
  flight[IN_FLIGHT] ??= 0;
  const dropped = metrics.counter({ name: 'http_route_overflow_total', help: 'Requests counted under the overflow route label because the distinct-route cap was reached.' });

  const routes = new Set<string>([unmatched, overflow]);
  // route -> (status * 16 + method index) -> series: bounded because routes, status codes and methods
  // each are. The label strings are made once, when a series is first seen.
  const byRoute = new Map<string, Map<number, Series>>();
  // Every series in creation order: what the scrape-time sync copies into http_requests_total.
  const series: Series[] = [];
  ((total as unknown as WithSources)[SOURCES] ??= new Set()).add(series);

  const seriesFor = (methodIndex: number, route: string, status: number): Series => {
    let byKey = byRoute.get(route);
    if (!byKey) byRoute.set(route, (byKey = new Map()));
    const key = status * 16 + methodIndex;
    let entry = byKey.get(key);
    if (!entry) {
      const labels = Object.freeze({ method: METHOD_LABELS[methodIndex]!, route, status_code: String(status) }) as Labels;
      entry = { labels, count: 0, histogram: duration.series(labels) };
      byKey.set(key, entry);
      series.push(entry);
    }
    return entry;
  };

  const boundedRoute = (template: string | undefined): string => {
    if (template === undefined) return unmatched;
    if (routes.has(template)) return template;
    if (routes.size - 2 >= maxRoutes) {
      dropped.inc();
      return overflow;
    }
    routes.add(template);
    return template;
  };

  return {
    excluded(path) {
      if (excludeExact.has(path)) return true;
      for (const pattern of excludePatterns) if (pattern.test(path)) return true;
      return false;
    },
    begin() {
      flight[IN_FLIGHT]!++;
      if (directInFlight) inFlight.inc();
    },
    end(method, route, status, seconds, exemplar) {
      flight[IN_FLIGHT]!--;
      if (directInFlight) inFlight.dec();
      const entry = seriesFor(METHOD_INDEX.get(method) ?? OTHER_METHOD, boundedRoute(route), status);
      duration.record(entry.histogram, seconds, exemplar);
      entry.count++;
      if (directTotal) total.inc(entry.labels);
    },
  };
}

/** The path of a request URL without its query string (no allocation when there is none). */
export function pathOf(url: string | undefined): string {
  const u = url ?? '/';
  const q = u.indexOf('?');
  return q === -1 ? u : u.slice(0, q);
}
