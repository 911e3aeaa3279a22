import { performance } from 'node:perf_hooks';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Express, NextFunction, Request, RequestHandler, Response } from 'express';
import type { Counter, Gauge } from 'prom-client';
import { MetricsOptionsError } from '../errors.js';
import { assertBuckets, DEFAULT_BUCKETS, DEFINITION, getOrCreate, type Metrics } from '../metrics.js';
import { isSeriesHistogram, SeriesHistogram, type HistogramSeries } from '../series-histogram.js';
import { RouterWatcher, routeTemplate, type TrackedRequest } from './route-template.js';

/** Options of {@link httpMetrics}. */
export interface HttpMetricsOptions {
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
  /** Exemplar labels for a request (for example `{ trace_id }`); exposed in OpenMetrics only. @default undefined (no exemplars) */
  exemplar?: (req: Request, res: Response) => Record<string, string> | undefined;
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

/** The middleware, plus `wrap(app)` for measuring without adding a layer to Express's router. */
export interface HttpMetricsMiddleware extends RequestHandler {
  /**
   * Returns a plain `(req, res)` listener that measures and then hands the request to `app`:
   * `http.createServer(httpMetrics(metrics).wrap(app))`. Same metrics and labels as `app.use(...)`, without
   * the cost of one more router layer on every request. Use one or the other, not both.
   */
  wrap(app: Express): (req: IncomingMessage, res: ServerResponse) => void;
}

/**
 * Express 5 RED middleware: `http_request_duration_seconds`, `http_requests_total` and
 * `http_requests_in_flight`, labelled by method, the full route template and status code.
 * Install it before the routes: `app.use(httpMetrics(metrics))`.
 */
export function httpMetrics(metrics: Metrics, options: HttpMetricsOptions = {}): HttpMetricsMiddleware {
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
  const exemplar = options.exemplar;
  if (exemplar !== undefined && typeof exemplar !== 'function') throw new MetricsOptionsError('options.exemplar must be a function');

  const buckets = options.buckets ?? DEFAULT_BUCKETS;
  const duration = durationHistogram(metrics, buckets, exemplar !== undefined);
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
  const watchers = new WeakMap<object, RouterWatcher>();
  let lastApp: object | undefined;
  let lastWatcher: RouterWatcher | undefined;

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

  // When each response in flight started, keyed by the response: one handler serves every response
  // (no closure or once-wrapper per request), and nothing is written onto the response. Properties
  // added to it would cost more than the closure: Express gives every req/res a hidden class of its
  // own (Object.setPrototypeOf per request), so each added property builds a new one per request
  // (measured: about 6% more server CPU per request with app.use). Entries leave on 'close', which
  // Node emits for every response, finished or abandoned.
  const startedAt = new Map<ServerResponse, number>();
  // Further trackings of a response already in flight (this middleware installed twice): each one
  // is counted, as before, and in-flight still returns to 0.
  const repeats = new Map<ServerResponse, number>();

  function onClose(this: ServerResponse): void {
    const started = startedAt.get(this);
    if (started === undefined) return;
    const again = repeats.size === 0 ? undefined : repeats.get(this);
    if (again === undefined) startedAt.delete(this);
    else if (again > 1) repeats.set(this, again - 1);
    else repeats.delete(this);
    flight[IN_FLIGHT]!--;
    if (directInFlight) inFlight.dec();
    const seconds = (performance.now() - started) / 1000;
    const req = this.req as Request;
    const methodIndex = METHOD_INDEX.get(req.method) ?? OTHER_METHOD;
    // A response the client abandoned before it was fully written has no meaningful status.
    const status = this.writableFinished ? this.statusCode : 499;
    const entry = seriesFor(methodIndex, boundedRoute(routeTemplate(req as unknown as TrackedRequest)), status);
    duration.record(entry.histogram, seconds, exemplar ? exemplar(req, this as Response) : undefined);
    entry.count++;
    if (directTotal) total.inc(entry.labels);
  }

  const excluded = (path: string): boolean => {
    if (excludeExact.has(path)) return true;
    for (const pattern of excludePatterns) if (pattern.test(path)) return true;
    return false;
  };

  // Per request once warm: one map entry and one 'close' listener (the emitter may grow its listener
  // array; the map reuses its slots). Still allocated: the path when the URL has a query string, the
  // route template of routes under mounted routers (prefix + path), and whatever `exemplar` returns.
  const track = (req: IncomingMessage, res: ServerResponse, app: object | undefined): boolean => {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    if (excluded(q === -1 ? url : url.slice(0, q))) return false;
    if (app) {
      let watcher = app === lastApp ? lastWatcher : watchers.get(app);
      if (!watcher) watchers.set(app, (watcher = new RouterWatcher()));
      lastApp = app;
      lastWatcher = watcher;
      watcher.refresh((app as { router?: { stack?: never[] } }).router?.stack);
    }
    if (startedAt.has(res)) repeats.set(res, (repeats.get(res) ?? 0) + 1);
    else startedAt.set(res, performance.now());
    flight[IN_FLIGHT]!++;
    if (directInFlight) inFlight.inc();
    res.on('close', onClose);
    return true;
  };

  const middleware = function httpMetricsMiddleware(req: Request, res: Response, next: NextFunction): void {
    track(req, res, req.app);
    next();
  } as HttpMetricsMiddleware;
  middleware.wrap = (app) => {
    if (typeof app !== 'function') throw new MetricsOptionsError('wrap() needs an Express application');
    return function instrumentedApp(req: IncomingMessage, res: ServerResponse): void {
      track(req, res, app);
      app(req as Request, res as Response);
    };
  };
  return middleware;
}
