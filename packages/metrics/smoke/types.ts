import {
  createExternalApiMetrics,
  createMetrics,
  metricsHandler,
  type Metrics,
  type MetricsOptions,
} from '@org/metrics';
import { createServer } from 'node:http';
import express from 'express';
import { httpMetrics, type HttpMetricsOptions } from '@org/metrics/express';
import type { FastifyPluginCallback, RouteHandlerMethod } from 'fastify';
import type { Handler, MiddlewareHandler } from 'hono';
import {
  httpMetrics as fastifyMetrics,
  metricsHandler as fastifyHandler,
  type HttpMetricsOptions as FastifyOptions,
} from '@org/metrics/fastify';
import {
  httpMetrics as honoMetrics,
  metricsHandler as honoHandler,
  type HttpMetricsOptions as HonoOptions,
} from '@org/metrics/hono';

const options: MetricsOptions = {
  defaultLabels: { service: 'api' },
  runtime: { eventLoopResolutionMs: 20 },
  runtimeNames: 'prom-client',
};
const metrics: Metrics = createMetrics(options);
const analyses = metrics.counter({
  name: 'workflow_analysis_total',
  help: 'Analyses.',
  labelNames: ['tier', 'status'] as const,
});
analyses.inc({ tier: 'pro', status: 'completed' });
const ghl = createExternalApiMetrics(metrics, { name: 'ghl' });
ghl.record('/contacts/:id', 0.12, 200);
const http: HttpMetricsOptions = {
  maxRoutes: 100,
  buckets: [0.1, 0.5, 1],
  customLabels: { platform: { values: ['ios', 'android', 'web'], value: (req) => req.get('x-platform') } },
  latencyExclude: { contentTypes: ['text/event-stream'], routes: [/^\/stream\//] },
};
export const middleware = httpMetrics(metrics, http);
export const handler = metricsHandler(metrics, { bearerToken: 'a-token-of-16-chars-or-more' });
export const server = createServer(httpMetrics(metrics).wrap(express()));

const fastifyOptions: FastifyOptions = { maxRoutes: 50, exemplar: (request) => ({ trace_id: String(request.id) }) };
const honoOptions: HonoOptions = {
  exclude: ['/metrics'],
  exemplar: (c) => ({ trace_id: c.req.header('x-trace-id') ?? '' }),
};
export const fastifyPlugin: FastifyPluginCallback = fastifyMetrics(metrics, fastifyOptions);
export const fastifyScrape: RouteHandlerMethod = fastifyHandler(metrics);
export const honoMiddleware: MiddlewareHandler = honoMetrics(metrics, honoOptions);
export const honoScrape: Handler = honoHandler(metrics, { bearerToken: 'a-token-of-16-chars-or-more' });
