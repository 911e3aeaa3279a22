import type { Counter, Gauge } from 'prom-client';
import { MetricsOptionsError } from '../errors.js';
import { assertBuckets, DEFAULT_BUCKETS, DEFINITION, getOrCreate } from '../definitions.js';
import type { Metrics } from '../types.js';
import { isSeriesHistogram, SeriesHistogram, type HistogramSeries } from '../series-histogram.js';

/** Options every HTTP binding (Express, Fastify, Hono) shares; `Req`/`Res` are what custom labels read. */
export interface HttpRecorderOptions<Req = unknown, Res = unknown> {
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
  /** Extra labels on `http_requests_total` and `http_request_duration_seconds`, each read from the request and kept to a fixed set of values. @default {} */
  customLabels?: Readonly<Record<string, CustomLabel<Req, Res>>>;
  /** Responses left out of the latency histogram (long-lived streams), still counted in `http_requests_total` and in flight. @default { contentTypes: ['text/event-stream'], routes: [] } */
  latencyExclude?: LatencyExclude;
}

/** A label read from each request, kept to a fixed set of values so that cardinality stays bounded. */
export interface CustomLabel<Req = unknown, Res = unknown> {
  /** The values the label may take (at most 100); any other value, or none, is recorded as `overflow`. */
  values: readonly string[];
  /** Reads the value once the response is done, e.g. `(req) => req.get('x-client-platform')`. A throw counts as `overflow`. */
  value: (req: Req, res: Res) => string | undefined | null;
  /** Value recorded for anything outside `values`. @default '__other__' */
  overflow?: string;
}

/** Which responses the latency histogram leaves out: their duration is a session length, not a response time. */
export interface LatencyExclude {
  /** Media types of the response's Content-Type (parameters and case ignored). @default ['text/event-stream'] */
  contentTypes?: readonly string[];
  /** Route templates (exact) or RegExps tested against the route template. @default [] */
  routes?: readonly (string | RegExp)[];
}

export const DEFAULT_EXCLUDE: readonly string[] = [
  '/metrics',
  '/health',
  '/healthz',
  '/live',
  '/livez',
  '/ready',
  '/readyz',
];
/** Method label values; the index is part of a series key, unknown verbs share the last one (`OTHER`). */
const METHOD_LABELS = [
  'GET',
  'HEAD',
  'POST',
  'PUT',
  'PATCH',
  'DELETE',
  'OPTIONS',
  'TRACE',
  'CONNECT',
  'OTHER',
] as const;
const OTHER_METHOD = METHOD_LABELS.length - 1;
const METHOD_INDEX = new Map<string, number>(METHOD_LABELS.slice(0, OTHER_METHOD).map((m, i) => [m, i]));

type Labels = {
  method: string;
  route: string;
  status_code: string;
} & Record<string, string>;

const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const RESERVED_LABELS = new Set(['method', 'route', 'status_code', 'le', 'quantile', 'job', 'instance']);

interface BoundLabel {
  readonly name: string;
  readonly values: readonly string[];
  readonly index: ReadonlyMap<string, number>;
  readonly value: CustomLabel['value'];
}

function boundLabels(custom: HttpRecorderOptions['customLabels']): BoundLabel[] {
  if (custom === undefined) return [];
  if (typeof custom !== 'object' || custom === null || Array.isArray(custom))
    throw new MetricsOptionsError('options.customLabels must be an object of { values, value } by label name');
  const entries = Object.entries(custom);
  if (entries.length > 10) throw new MetricsOptionsError('options.customLabels: at most 10 labels');
  const bound = entries.map(([name, def]) => {
    const where = `options.customLabels.${name}`;
    if (!LABEL_NAME.test(name) || name.startsWith('__') || RESERVED_LABELS.has(name))
      throw new MetricsOptionsError(`${where}: invalid or reserved label name`);
    if (typeof def !== 'object' || def === null || typeof def.value !== 'function')
      throw new MetricsOptionsError(`${where}.value must be a function`);
    const values = def.values;
    if (
      !Array.isArray(values) ||
      values.length === 0 ||
      values.length > 100 ||
      values.some((v) => typeof v !== 'string') ||
      new Set(values).size !== values.length
    ) {
      throw new MetricsOptionsError(`${where}.values must list 1 to 100 distinct strings`);
    }
    const overflow = def.overflow ?? '__other__';
    if (typeof overflow !== 'string' || values.includes(overflow))
      throw new MetricsOptionsError(`${where}.overflow must be a string that is not one of the values`);
    const all = [...values, overflow];
    return { name, values: all, index: new Map(values.map((v, i) => [v, i])), value: def.value };
  });
  // Each label multiplies the series of every route and status: keep the product small.
  const combinations = bound.reduce((n, b) => n * b.values.length, 1);
  if (combinations > 10_000)
    throw new MetricsOptionsError(
      `options.customLabels allow ${combinations} value combinations (overflow values included); at most 10 000`,
    );
  return bound;
}

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
function durationHistogram(
  metrics: Metrics,
  buckets: readonly number[],
  exemplars: boolean,
  labelNames: readonly string[],
): SeriesHistogram {
  assertBuckets(
    buckets,
    () => new MetricsOptionsError('options.buckets must be a non-empty ascending list of finite numbers'),
  );
  return getOrCreate(
    metrics.registry,
    'histogram',
    { name: DURATION, help: DURATION_HELP, labelNames },
    () => new SeriesHistogram(DURATION, DURATION_HELP, labelNames, buckets, exemplars),
    {
      buckets,
      exemplars,
      reuse: isSeriesHistogram,
      describeRefused(existing) {
        const have = (existing as { [DEFINITION]?: string })[DEFINITION];
        return have === undefined
          ? 'a metric registered outside @org/metrics'
          : `${have} as a plain prom-client histogram (let httpMetrics create it)`;
      },
    },
  );
}

// Symbol.for: several middlewares (or copies of this package) on one registry share the same state.
const SOURCES = Symbol.for('@org/metrics.http-series-sources');
const SYNCED = Symbol.for('@org/metrics.http-synced-collect');
const IN_FLIGHT = Symbol.for('@org/metrics.http-in-flight');
/** Every source has `values()` yielding its series (an array here, a Map in earlier releases). */
type WithSources = { [SOURCES]?: Set<{ values(): Iterable<Series> }> };
type WithInFlight = { [IN_FLIGHT]?: number };

/** The framework-free half of every HTTP binding: RED metrics with bounded route labels. */
export interface HttpRecorder<Req = unknown, Res = unknown> {
  /** Whether a path (without query string) is left unmeasured. */
  excluded(path: string): boolean;
  /** One more request in flight. */
  begin(): void;
  /**
   * One request done (in flight again one less): `route` is its template, undefined when no route
   * matched; `status` 499 when the client went away before the response was written. `req`/`res` are
   * handed to the custom label readers; `contentType` (the response's) decides whether it was a stream.
   */
  end(
    method: string,
    route: string | undefined,
    status: number,
    seconds: number,
    exemplar: Record<string, string> | undefined,
    req: Req,
    res: Res,
    contentType: unknown,
  ): void;
}

/**
 * Validates the shared options (throwing MetricsOptionsError), registers `http_request_duration_seconds`,
 * `http_requests_total`, `http_requests_in_flight` and `http_route_overflow_total`, and returns the recorder.
 */
export function createHttpRecorder<Req, Res>(
  metrics: Metrics,
  options: HttpRecorderOptions<Req, Res>,
  exemplars: boolean,
): HttpRecorder<Req, Res> {
  if (!metrics || typeof metrics.histogram !== 'function')
    throw new MetricsOptionsError('httpMetrics needs the handle createMetrics() returned');
  const maxRoutes = options.maxRoutes ?? 200;
  if (!Number.isInteger(maxRoutes) || maxRoutes < 1)
    throw new MetricsOptionsError('options.maxRoutes must be a positive integer');
  const unmatched = options.unmatchedRoute ?? '__unmatched__';
  const overflow = options.overflowRoute ?? '__overflow__';
  if (typeof unmatched !== 'string' || typeof overflow !== 'string')
    throw new MetricsOptionsError('options.unmatchedRoute and options.overflowRoute must be strings');
  const exclude = options.exclude ?? DEFAULT_EXCLUDE;
  if (!Array.isArray(exclude) || exclude.some((e) => typeof e !== 'string' && !(e instanceof RegExp)))
    throw new MetricsOptionsError('options.exclude must list strings or RegExps');
  const excludeExact = new Set(exclude.filter((e): e is string => typeof e === 'string'));
  const excludePatterns = exclude.filter((e): e is RegExp => e instanceof RegExp);

  const custom = boundLabels(options.customLabels as HttpRecorderOptions['customLabels']);
  const labelNames = [...LABEL_NAMES, ...custom.map((c) => c.name)];
  const latency = options.latencyExclude ?? {};
  if (typeof latency !== 'object' || latency === null)
    throw new MetricsOptionsError('options.latencyExclude must be an object');
  const streamTypes = latency.contentTypes ?? ['text/event-stream'];
  const streamRoutes = latency.routes ?? [];
  if (!Array.isArray(streamTypes) || streamTypes.some((t) => typeof t !== 'string' || !t.includes('/')))
    throw new MetricsOptionsError(
      'options.latencyExclude.contentTypes must list media types such as text/event-stream',
    );
  if (!Array.isArray(streamRoutes) || streamRoutes.some((r) => typeof r !== 'string' && !(r instanceof RegExp)))
    throw new MetricsOptionsError('options.latencyExclude.routes must list route templates or RegExps');
  const streamTypeSet = new Set(streamTypes.map((t) => t.toLowerCase()));
  // First letters (lower case) of the excluded types: most responses are told apart on one character, with no allocation.
  const streamFirst = new Set([...streamTypeSet].map((t) => t.charCodeAt(0)));
  const streamRouteSet = new Set(streamRoutes.filter((r): r is string => typeof r === 'string'));
  const streamRoutePatterns = streamRoutes.filter((r): r is RegExp => r instanceof RegExp);
  // Route labels are bounded (maxRoutes), so the answer per route is remembered.
  const streamRouteCache = new Map<string, boolean>();
  const isStreamRoute = (route: string): boolean => {
    if (streamRouteSet.size === 0 && streamRoutePatterns.length === 0) return false;
    let hit = streamRouteCache.get(route);
    if (hit === undefined) {
      hit = streamRouteSet.has(route) || streamRoutePatterns.some((p) => p.test(route));
      streamRouteCache.set(route, hit);
    }
    return hit;
  };
  const isStreamType = (header: unknown): boolean => {
    if (streamTypeSet.size === 0) return false;
    if (typeof header !== 'string' || !streamFirst.has(header.charCodeAt(0) | 0x20)) return false;
    const semi = header.indexOf(';');
    return streamTypeSet.has((semi === -1 ? header : header.slice(0, semi)).trim().toLowerCase());
  };

  const buckets = options.buckets ?? DEFAULT_BUCKETS;
  const duration = durationHistogram(metrics, buckets, exemplars, labelNames);
  // Requests are counted in plain numbers on the hot path and copied into prom-client at scrape time:
  // one prom-client call per request (the histogram) instead of four.
  const syncTotal = function syncHttpRequests(this: Counter<string>) {
    this.reset();
    for (const source of (this as unknown as WithSources)[SOURCES] ?? [])
      for (const s of source.values()) if (s.count > 0) this.inc(s.labels, s.count);
  };
  const syncInFlight = function syncInFlight(this: Gauge<string>) {
    this.set((this as unknown as WithInFlight)[IN_FLIGHT] ?? 0);
  };
  Object.defineProperty(syncTotal, SYNCED, { value: true });
  Object.defineProperty(syncInFlight, SYNCED, { value: true });
  const total = metrics.counter({
    name: 'http_requests_total',
    help: 'HTTP requests completed.',
    labelNames,
    collect: syncTotal,
  });
  const inFlight = metrics.gauge({
    name: 'http_requests_in_flight',
    help: 'HTTP requests being served right now.',
    collect: syncInFlight,
  });
  // Someone may have registered identical metrics without the scrape-time sync; then count directly.
  const isSynced = (m: unknown) => ((m as { collect?: { [SYNCED]?: boolean } }).collect?.[SYNCED] ?? false) === true;
  const directTotal = !isSynced(total);
  const directInFlight = !isSynced(inFlight);
  const flight = inFlight as unknown as WithInFlight;
  flight[IN_FLIGHT] ??= 0;
  const dropped = metrics.counter({
    name: 'http_route_overflow_total',
    help: 'Requests counted under the overflow route label because the distinct-route cap was reached.',
  });

  const routes = new Set<string>([unmatched, overflow]);
  // route -> (status * 16 + method index) -> series: bounded because routes, status codes and methods
  // each are. The label strings are made once, when a series is first seen.
  const byRoute = new Map<string, Map<number, Series>>();
  // Every series in creation order: what the scrape-time sync copies into http_requests_total.
  const series: Series[] = [];
  ((total as unknown as WithSources)[SOURCES] ??= new Set()).add(series);

  // Custom label values are indexes into their closed lists, mixed into the series key.
  const customIndexes = new Array<number>(custom.length).fill(0);
  const readCustom = (req: Req, res: Res): number => {
    let key = 0;
    for (let i = 0; i < custom.length; i++) {
      const label = custom[i]!;
      let index = label.values.length - 1;
      try {
        const v = (label.value as CustomLabel<Req, Res>['value'])(req, res);
        if (typeof v === 'string') index = label.index.get(v) ?? index;
      } catch {
        // A throwing reader counts as overflow: a label never fails a request.
      }
      customIndexes[i] = index;
      key = key * label.values.length + index;
    }
    return key;
  };

  const seriesFor = (methodIndex: number, route: string, status: number, customKey = 0): Series => {
    let byKey = byRoute.get(route);
    if (!byKey) byRoute.set(route, (byKey = new Map()));
    const key = (customKey * 1024 + status) * 16 + methodIndex;
    let entry = byKey.get(key);
    if (!entry) {
      const base: Record<string, string> = { method: METHOD_LABELS[methodIndex]!, route, status_code: String(status) };
      for (let i = 0; i < custom.length; i++) base[custom[i]!.name] = custom[i]!.values[customIndexes[i]!]!;
      const labels = Object.freeze(base) as Labels;
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
    end(method, template, status, seconds, exemplar, req, res, contentType) {
      flight[IN_FLIGHT]!--;
      if (directInFlight) inFlight.dec();
      const route = boundedRoute(template);
      const entry = seriesFor(
        METHOD_INDEX.get(method) ?? OTHER_METHOD,
        route,
        status,
        custom.length === 0 ? 0 : readCustom(req, res),
      );
      // A stream's duration is how long the client stayed, not how fast the server answered: counted, not timed.
      if (!isStreamType(contentType) && !isStreamRoute(route)) duration.record(entry.histogram, seconds, exemplar);
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
