import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasSharedPostgres, prometheusBinary, promtool, sharedPostgres, type SharedPostgres } from '@org/test-services';
import { createClusterAggregator } from '../src/index.js';
import { alertExprs, alertsPath, expand, lintDashboard, loadDashboard, opsPrometheusDir, panelsOf, parsePromQL, targetsOf } from '@org/ops/checks';
import { sendLoad, startExampleApp, type ExampleApp } from './example-app.js';

const hasPromtool = prometheusBinary('promtool') !== undefined;
const dashboard = loadDashboard();
const targets = targetsOf(dashboard);
const alerts = alertExprs(readFileSync(alertsPath, 'utf8'));

describe('dashboard shape', () => {
  it('has the four rows the issue lists plus the reference API queue row, with the panels each needs', () => {
    const rows = dashboard.panels.filter((p: { type: string }) => p.type === 'row').map((p: { title: string }) => p.title);
    expect(rows).toEqual(['Traffic', 'Runtime', 'Dependencies', 'Business', 'Background analysis (queue)']);
    const titles = panelsOf(dashboard).map((p) => p.title);
    for (const t of ['Request rate by route', 'Error ratio', 'Latency p50 / p95 / p99', 'Requests in flight', 'Event-loop lag', 'Heap', 'Resident memory (RSS)', 'Time in GC', 'DB query latency p95', 'Cache hit ratio', 'Cache latency p95', 'GHL API latency p95', 'GHL API errors', 'Analyses by tier and status', 'Health score distribution', 'Issues by severity', 'Active users by tier', 'Subscription events', 'Rate-limit rejections', 'Queue depth', 'Failed jobs kept', 'Job throughput by outcome', 'Job retries', 'Job duration p50 / p95 / p99', 'Job failure ratio']) {
      expect(titles).toContain(t);
    }
  });

  it('panels do not overlap on the grid', () => {
    const cells = new Set<string>();
    for (const p of dashboard.panels) {
      const { x, y, w, h } = p.gridPos;
      for (let i = x; i < x + w; i++) for (let j = y; j < y + h; j++) {
        const key = `${i},${j}`;
        expect(cells.has(key), `overlap at ${key} (${p.title})`).toBe(false);
        cells.add(key);
      }
    }
  });
});

describe('dashboard-linter rules (TypeScript port)', () => {
  it('report no violation on ops/grafana/dashboards/api-overview.json', () => {
    expect(lintDashboard(dashboard)).toEqual([]);
  });

  it('catch each kind of violation on a broken copy (the rules can fail)', () => {
    const broken = structuredClone(dashboard);
    const panels = panelsOf(broken);
    panels[0].datasource = 'Prometheus';
    delete panels[1].fieldConfig.defaults.unit;
    panels[2].description = '';
    panels[3].targets[0].expr = 'sum(rate(http_requests_total{job=~"$job", instance=~"$instance"}[5m]))';
    panels[4].targets[0].expr = 'sum(rate(http_requests_total{instance=~"$instance"}[$__rate_interval]))';
    panels[5].targets[0].expr = 'sum(rate(http_requests_total{job=~"$job", instance=~"$instance"}[$__rate_interval])';
    panels[6].targets = [];
    broken.templating.list = broken.templating.list.filter((t: { name: string }) => t.name !== 'instance');
    broken.__inputs = [];
    broken.editable = true;
    const rules = new Set(lintDashboard(broken).map((v) => v.rule));
    for (const rule of ['panel-datasource-rule', 'panel-units-rule', 'panel-title-description-rule', 'target-rate-interval-rule', 'target-job-rule', 'target-promql-rule', 'panel-no-targets-rule', 'template-instance-rule', 'sharing-inputs', 'sharing-hardcoded-datasource', 'uneditable-dashboard-rule']) {
      expect(rules, rule).toContain(rule);
    }
  });
});

describe('every PromQL expression parses', () => {
  it('@prometheus-io/lezer-promql: dashboard targets, variable queries and alert rules', () => {
    expect(targets.length).toBeGreaterThan(25);
    expect(alerts.length).toBe(11);
    for (const { panel, refId, expr } of targets) expect(parsePromQL(expand(expr)).errors, `${panel} ${refId}: ${expr}`).toBe(0);
    for (const { alert, expr } of alerts) expect(parsePromQL(expr).errors, `${alert}: ${expr}`).toBe(0);
    expect(parsePromQL('sum(rate(x[5m])').errors).toBeGreaterThan(0);
  });

  describe.skipIf(!hasPromtool)('promtool', () => {
    let dir = '';
    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), 'metrics-promtool-'));
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('check rules: every dashboard expression as a recording rule, plus alerts.yml', () => {
      const rules = targets.map((t, i) => `      - record: dashboard:expr_${i}\n        expr: ${JSON.stringify(expand(t.expr))}`).join('\n');
      writeFileSync(join(dir, 'dashboard-rules.yml'), `groups:\n  - name: dashboard\n    rules:\n${rules}\n`);
      const r = promtool(['check', 'rules', join(dir, 'dashboard-rules.yml'), alertsPath]);
      expect(r.output).toContain(`SUCCESS: ${targets.length} rules found`);
      expect(r.output).toContain('SUCCESS: 11 rules found');
      expect(r.code).toBe(0);
      // Control: a broken expression fails.
      writeFileSync(join(dir, 'broken.yml'), 'groups:\n  - name: x\n    rules:\n      - record: x:y\n        expr: "sum(rate(x[5m])"\n');
      expect(promtool(['check', 'rules', join(dir, 'broken.yml')]).code).not.toBe(0);
    });

    it('test rules: alerts.test.yml unit tests pass', () => {
      const r = promtool(['test', 'rules', join(opsPrometheusDir, 'alerts.test.yml')]);
      expect(r.output).toContain('SUCCESS');
      expect(r.code).toBe(0);
    });

    it('check config: ops/prometheus/prometheus.yml is valid', () => {
      const copy = join(dir, 'config');
      mkdirSync(join(copy, 'secrets'), { recursive: true });
      copyFileSync(join(opsPrometheusDir, 'prometheus.yml'), join(copy, 'prometheus.yml'));
      copyFileSync(alertsPath, join(copy, 'alerts.yml'));
      // The token file lives next to the config in production; an empty placeholder is enough to check.
      writeFileSync(join(copy, 'secrets', 'api-metrics-token'), 'placeholder-token-for-check\n');
      const r = promtool(['check', 'config', join(copy, 'prometheus.yml')]);
      expect(r.output).toContain('SUCCESS');
      expect(r.code).toBe(0);
    });
  });
});

const pgUp = await hasSharedPostgres();

describe.skipIf(!pgUp)('dashboard / metrics contract against a real scrape of the example app', () => {
  let app: ExampleApp;
  let db: SharedPostgres;
  let pool: pg.Pool;
  let names = new Set<string>();
  beforeAll(async () => {
    db = await sharedPostgres('metrics-contract');
    pool = new pg.Pool({ connectionString: db.url, max: 2 });
    // The database is dropped WITH (FORCE) at the end, which may terminate a connection the pool is still closing.
    pool.on('error', () => undefined);
    app = await startExampleApp({ pool });
    await sendLoad(app.url, 3);
    const body = await (await fetch(`${app.url}/metrics`)).text();
    // Cluster-only series (metrics_cluster_*) exist on a primary's aggregated scrape; take that too.
    const aggregator = createClusterAggregator(app.metrics, { timeoutMs: 500 });
    const clusterBody = (await aggregator.scrape()).body;
    aggregator.close();
    const sampleNames = (text: string) => text.split('\n').filter((l) => l && !l.startsWith('#')).map((l) => /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(l)![0]);
    names = new Set([...sampleNames(body), ...sampleNames(clusterBody)]);
  });
  afterAll(async () => {
    await app?.close();
    await pool?.end();
    await db?.cleanup();
  });

  it('every metric name the dashboard and the alerts use exists in the scrape', () => {
    const used = new Set([...targets.flatMap((t) => parsePromQL(expand(t.expr)).metrics), ...alerts.flatMap((a) => parsePromQL(a.expr).metrics)]);
    // `up` is Prometheus's own per-target series, not something the app exposes.
    used.delete('up');
    const missing = [...used].filter((n) => !names.has(n));
    expect(missing).toEqual([]);
    expect(used.size).toBeGreaterThan(20);
  });

  it('every RED metric the package exposes is on some panel', () => {
    const used = new Set(targets.flatMap((t) => parsePromQL(expand(t.expr)).metrics));
    for (const red of ['http_request_duration_seconds_bucket', 'http_requests_total', 'http_requests_in_flight']) {
      expect(names.has(red)).toBe(true);
      expect(used, red).toContain(red);
    }
  });
});
