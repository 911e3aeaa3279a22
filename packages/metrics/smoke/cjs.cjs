const assert = require('node:assert/strict');
const { createMetrics, MetricsError } = require('@org/metrics');
const { httpMetrics } = require('@org/metrics/express');

const metrics = createMetrics({ runtime: false });
metrics.histogram({ name: 'work_seconds', help: 'Work.', buckets: [0.1, 1] }).observe(0.5);
assert.equal(typeof httpMetrics(metrics), 'function');
assert.equal(new MetricsError('boom').code, 'METRICS_ERROR');
for (const sub of ['fastify', 'hono'])
  assert.equal(typeof require(`@org/metrics/${sub}`).httpMetrics(metrics), 'function');
assert.match(
  require('node:fs').readFileSync(require.resolve('@org/metrics/alerts/http.yml'), 'utf8'),
  /alert: HttpLatencyBudgetBurnFast/,
);
assert.equal(require('@org/metrics/dashboards/http.json').title, 'HTTP service (RED)');
metrics.scrape().then(({ body }) => {
  assert.match(body, /work_seconds_bucket\{le="1"\} 1/);
  metrics.close();
  console.log('cjs ok');
});
