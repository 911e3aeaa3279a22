import assert from 'node:assert/strict';
import { createMetrics, MetricConflictError, MetricsError } from '@org/metrics';
import { httpMetrics } from '@org/metrics/express';

const metrics = createMetrics({ runtime: false });
const jobs = metrics.counter({ name: 'jobs_total', help: 'Jobs.', labelNames: ['kind'] });
jobs.inc({ kind: 'a' });
assert.equal(metrics.counter({ name: 'jobs_total', help: 'Jobs.', labelNames: ['kind'] }), jobs);
assert.throws(() => metrics.gauge({ name: 'jobs_total', help: 'Jobs.' }), MetricConflictError);
assert.equal(typeof httpMetrics(metrics), 'function');
const { body, contentType } = await metrics.scrape('application/openmetrics-text');
assert.match(contentType, /openmetrics/);
assert.match(body, /jobs_total\{kind="a"\} 1/);
assert.ok(body.endsWith('# EOF\n'));
assert.equal(new MetricsError('boom').code, 'METRICS_ERROR');
const fastify = await import('@org/metrics/fastify');
const hono = await import('@org/metrics/hono');
for (const m of [fastify, hono]) {
  assert.equal(typeof m.httpMetrics(metrics), 'function');
  assert.equal(typeof m.metricsHandler(metrics), 'function');
}
metrics.close();
console.log('esm ok');
