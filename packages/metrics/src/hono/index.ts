import type { ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { Context, Handler, MiddlewareHandler } from 'hono';
import { matchedRoutes } from 'hono/route';
import { MetricsOptionsError } from '../errors.js';
import { metricsHandler as nodeMetricsHandler } from '../handler.js';
import { createHttpRecorder, type HttpRecorderOptions } from '../http/recorder.js';

export type { CustomLabel, LatencyExclude } from '../http/recorder.js';
import type { Metrics, MetricsHandlerOptions, ScrapeSource } from '../types.js';

/** Options of the Hono middleware: the Express middleware's, with `exemplar` reading Hono's context. */
export interface HttpMetricsOptions extends HttpRecorderOptions<Context, Context> {
  /** Exemplar labels for a request (for example `{ trace_id }`); exposed in OpenMetrics only. @default undefined (no exemplars) */
  exemplar?: (c: Context) => Record<string, string> | undefined;
}

/**
 * The path pattern of the route that answered, or undefined when only middleware ran (no route
 * matched). Middleware (`app.use`) is registered for every method with a `(c, next)` handler.
 */
function answeringRoute(c: Context): string | undefined {
  const route = matchedRoutes(c)[c.req.routeIndex];
  if (route === undefined || (route.method === 'ALL' && route.handler.length >= 2)) return undefined;
  return route.path;
}

/**
 * Hono 4 middleware with the Express middleware's RED metrics (same names, labels, route cap and
 * `__unmatched__`), the route label taken from the matched route's path: `app.use(httpMetrics(metrics))`.
 * On @hono/node-server it measures until Node closes the response (a client gone before the response
 * was written counts as 499), elsewhere until the handler chain has produced the response.
 */
export function httpMetrics(metrics: Metrics, options: HttpMetricsOptions = {}): MiddlewareHandler {
  const exemplar = options.exemplar;
  if (exemplar !== undefined && typeof exemplar !== 'function')
    throw new MetricsOptionsError('options.exemplar must be a function');
  const recorder = createHttpRecorder(metrics, options, exemplar !== undefined);
  return async function httpMetricsMiddleware(c, next) {
    if (recorder.excluded(c.req.path)) return next();
    const started = performance.now();
    recorder.begin();
    // On @hono/node-server, Node's response tells when the exchange ends and whether the client left first.
    const outgoing = (c.env as { outgoing?: ServerResponse } | undefined)?.outgoing;
    if (outgoing !== undefined && typeof outgoing.once === 'function') {
      outgoing.once('close', () => {
        const status = outgoing.writableFinished ? outgoing.statusCode : 499;
        recorder.end(
          c.req.method,
          answeringRoute(c),
          status,
          (performance.now() - started) / 1000,
          exemplar?.(c),
          c,
          c,
          outgoing.getHeader('content-type'),
        );
      });
      return next();
    }
    let status = 500;
    try {
      await next();
      status = c.res.status;
    } finally {
      recorder.end(
        c.req.method,
        answeringRoute(c),
        status,
        (performance.now() - started) / 1000,
        exemplar?.(c),
        c,
        c,
        c.res.headers.get('content-type'),
      );
    }
  };
}

/**
 * `/metrics` as a Hono handler, with the behaviour of the package's Node handler: format negotiated from
 * `Accept`, optional bearer token (401 otherwise), 405 for other methods, 500 without details when collecting fails.
 */
export function metricsHandler(source: ScrapeSource, options: MetricsHandlerOptions = {}): Handler {
  const node = nodeMetricsHandler(source, options);
  return (c) =>
    new Promise<Response>((resolve) => {
      const headers = new Headers();
      let status = 200;
      // The Node handler writes through this minimal response; its answer becomes a fetch Response.
      const res = {
        headersSent: false,
        writeHead(code: number, h: Record<string, string>) {
          status = code;
          for (const [k, v] of Object.entries(h)) headers.set(k, v);
          this.headersSent = true;
          return this;
        },
        end(body?: string) {
          resolve(new Response(c.req.method === 'HEAD' ? null : (body ?? null), { status, headers }));
        },
      };
      const req = {
        method: c.req.method,
        headers: { accept: c.req.header('accept'), authorization: c.req.header('authorization') },
      };
      node(req as never, res as never);
    });
}
