import { performance } from 'node:perf_hooks';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Express, NextFunction, Request, RequestHandler, Response } from 'express';
import { MetricsOptionsError } from '../errors.js';
import {
  createHttpRecorder,
  pathOf,
  type CustomLabel as RecorderCustomLabel,
  type HttpRecorderOptions,
} from '../http/recorder.js';
import type { Metrics } from '../types.js';
import { RouterWatcher, routerStack, routeTemplate, type TrackedRequest } from './route-template.js';

export { DEFAULT_EXCLUDE } from '../http/recorder.js';
export type { LatencyExclude } from '../http/recorder.js';

/** A label read from each request, kept to a fixed set of values so that cardinality stays bounded. */
export type CustomLabel = RecorderCustomLabel<Request, Response>;

/** Options of {@link httpMetrics}. */
export interface HttpMetricsOptions extends HttpRecorderOptions<Request, Response> {
  /** Exemplar labels for a request (for example `{ trace_id }`); exposed in OpenMetrics only. @default undefined (no exemplars) */
  exemplar?: (req: Request, res: Response) => Record<string, string> | undefined;
}

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
 * Express 5 and 4 RED middleware: `http_request_duration_seconds`, `http_requests_total` and
 * `http_requests_in_flight`, labelled by method, the full route template and status code.
 * Install it before the routes: `app.use(httpMetrics(metrics))`.
 */
export function httpMetrics(metrics: Metrics, options: HttpMetricsOptions = {}): HttpMetricsMiddleware {
  const exemplar = options.exemplar;
  if (exemplar !== undefined && typeof exemplar !== 'function')
    throw new MetricsOptionsError('options.exemplar must be a function');
  const recorder = createHttpRecorder(metrics, options, exemplar !== undefined);
  const watchers = new WeakMap<object, RouterWatcher>();
  let lastApp: object | undefined;
  let lastWatcher: RouterWatcher | undefined;

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
    const seconds = (performance.now() - started) / 1000;
    const req = this.req as Request;
    // A response the client abandoned before it was fully written has no meaningful status.
    const status = this.writableFinished ? this.statusCode : 499;
    // A response object without getHeader (a test double, another framework's wrapper) is not a stream.
    const contentType = typeof this.getHeader === 'function' ? this.getHeader('content-type') : undefined;
    recorder.end(
      req.method,
      routeTemplate(req as unknown as TrackedRequest),
      status,
      seconds,
      exemplar ? exemplar(req, this as Response) : undefined,
      req,
      this as Response,
      contentType,
    );
  }

  // Per request once warm: one map entry and one 'close' listener (the emitter may grow its listener
  // array; the map reuses its slots). Still allocated: the path when the URL has a query string, the
  // route template of routes under mounted routers (prefix + path), and whatever `exemplar` returns.
  const track = (req: IncomingMessage, res: ServerResponse, app: object | undefined): boolean => {
    if (recorder.excluded(pathOf(req.url))) return false;
    if (app) {
      let watcher = app === lastApp ? lastWatcher : watchers.get(app);
      if (!watcher) watchers.set(app, (watcher = new RouterWatcher()));
      lastApp = app;
      lastWatcher = watcher;
      watcher.refresh(routerStack(app));
    }
    if (startedAt.has(res)) repeats.set(res, (repeats.get(res) ?? 0) + 1);
    else startedAt.set(res, performance.now());
    recorder.begin();
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
