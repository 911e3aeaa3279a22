import { createExternalApiMetrics, createMetrics, metricsHandler, type Metrics, type MetricsOptions } from '@org/metrics';
import { createServer } from 'node:http';
import express from 'express';
import { httpMetrics, type HttpMetricsOptions } from '@org/metrics/express';

const options: MetricsOptions = { defaultLabels: { service: 'api' }, runtime: { eventLoopResolutionMs: 20 }, runtimeNames: 'prom-client' };
const metrics: Metrics = createMetrics(options);
const analyses = metrics.counter({ name: 'workflow_analysis_total', help: 'Analyses.', labelNames: ['tier', 'status'] as const });
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
