import { performance } from 'node:perf_hooks';
import type { FastifyInstance, FastifyPluginCallback, FastifyReply, FastifyRequest, RouteHandlerMethod } from 'fastify';
import { MetricsOptionsError } from '../errors.js';
import { metricsHandler as nodeMetricsHandler } from '../handler.js';
import { createHttpRecorder, pathOf, type HttpRecorderOptions } from '../http/recorder.js';

export type { CustomLabel, LatencyExclude } from '../http/recorder.js';
import type { Metrics, MetricsHandlerOptions, ScrapeSource } from '../types.js';

/** Options of the Fastify plugin: the Express middleware's, with `exemplar` reading Fastify's request and reply. */
export interface HttpMetricsOptions extends HttpRecorderOptions<FastifyRequest, FastifyReply> {
  /** Exemplar labels for a request (for example `{ trace_id }`); exposed in OpenMetrics only. @default undefined (no exemplars) */
  exemplar?: (request: FastifyRequest, reply: FastifyReply) => Record<string, string> | undefined;
}

/**
 * Fastify 5 plugin with the Express middleware's RED metrics (same names, labels, route cap and
 * `__unmatched__`), the route label taken from `request.routeOptions.url` (prefixes included):
 * `await app.register(httpMetrics(metrics))`. Measured from `onRequest` until Node closes the response;
 * a client gone before the response was written counts as 499.
 */
export function httpMetrics(metrics: Metrics, options: HttpMetricsOptions = {}): FastifyPluginCallback {
  const exemplar = options.exemplar;
  if (exemplar !== undefined && typeof exemplar !== 'function')
    throw new MetricsOptionsError('options.exemplar must be a function');
  const recorder = createHttpRecorder(metrics, options, exemplar !== undefined);
  const plugin = (fastify: FastifyInstance, _opts: unknown, done: (err?: Error) => void): void => {
    fastify.addHook('onRequest', (request, reply, next) => {
      if (!recorder.excluded(pathOf(request.raw.url))) {
        const started = performance.now();
        recorder.begin();
        const res = reply.raw;
        res.once('close', () => {
          const status = res.writableFinished ? res.statusCode : 499;
          recorder.end(
            request.method,
            request.routeOptions.url,
            status,
            (performance.now() - started) / 1000,
            exemplar?.(request, reply),
            request,
            reply,
            res.getHeader('content-type'),
          );
        });
      }
      next();
    });
    done();
  };
  // The hook applies to the instance the plugin is registered on, like fastify-plugin's `skip-override`.
  Object.defineProperty(plugin, Symbol.for('skip-override'), { value: true });
  Object.defineProperty(plugin, Symbol.for('fastify.display-name'), { value: '@org/metrics' });
  return plugin;
}

/**
 * `/metrics` as a Fastify route handler (`app.get('/metrics', metricsHandler(metrics))`): the package's
 * Node handler answering on the raw response (format negotiation, optional bearer token, 405, 500).
 */
export function metricsHandler(source: ScrapeSource, options: MetricsHandlerOptions = {}): RouteHandlerMethod {
  const node = nodeMetricsHandler(source, options);
  return (request, reply) => {
    reply.hijack();
    node(request.raw, reply.raw);
  };
}
