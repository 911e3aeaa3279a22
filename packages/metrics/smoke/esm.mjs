import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
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

// prom-client's runtime names, for community Node.js dashboards.
const compat = createMetrics({ runtimeNames: 'prom-client' });
assert.match((await compat.scrape()).body, /^nodejs_active_handles_total /m);
compat.close();

// The dashboard and the rules ship in the tarball, as package exports.
const dashboard = JSON.parse(
  readFileSync(fileURLToPath(import.meta.resolve('@org/metrics/dashboards/http.json')), 'utf8'),
);
assert.equal(dashboard.uid, 'org-metrics-http');
const rules = readFileSync(fileURLToPath(import.meta.resolve('@org/metrics/alerts/http.yml')), 'utf8');
assert.match(rules, /alert: HttpAvailabilityBudgetBurnFast/);
console.log('esm ok');
