import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  hasSharedPostgres,
  prometheusBinary,
  sharedPostgres,
  startPrometheus,
  waitFor,
  type PrivatePrometheus,
  type SharedPostgres,
} from '@org/test-services';
import { expand, loadDashboard, targetsOf } from '@org/ops/checks';
import { sendLoad, startExampleApp, type ExampleApp } from './example-app.js';

const prometheus = prometheusBinary('prometheus');
const pgUp = await hasSharedPostgres();
const TOKEN = 'live-check-scrape-token-0123456789';
const RATE_INTERVAL = '8s';

describe.skipIf(!prometheus || !pgUp)(
  'live check: Debian prometheus scrapes the example app, every panel query returns data',
  () => {
    let app: ExampleApp;
    let db: SharedPostgres;
    let pool: pg.Pool;
    let prom: PrivatePrometheus;
    const query = (expr: string) => prom.query(expr);

    beforeAll(async () => {
      db = await sharedPostgres('metrics-live');
      pool = new pg.Pool({ connectionString: db.url, max: 2 });
      // The database is dropped WITH (FORCE) at the end, which may terminate a connection the pool is still closing.
      pool.on('error', () => undefined);
      app = await startExampleApp({ pool, bearerToken: TOKEN });
      prom = await startPrometheus({
        files: { token: TOKEN },
        scrapeConfigs: [
          '  - job_name: api',
          '    metrics_path: /metrics',
          '    authorization: { type: Bearer, credentials_file: token }',
          `    static_configs: [{ targets: ['${new URL(app.url).host}'] }]`,
        ],
      });
    }, 60_000);

    afterAll(async () => {
      await prom?.stop();
      await app?.close();
      await pool?.end();
      await db?.cleanup();
    });

    it('error ratios read 0 (not "no data") while only 2xx are served, then every panel query returns at least one series under 2xx/4xx/5xx load', async () => {
      const dashboard = loadDashboard();
      const targets = targetsOf(dashboard);
      const vars = { job: 'api', instance: '.+', rateInterval: RATE_INTERVAL };

      // Phase 1: only 2xx.
      const okOnly = async () => {
        for (let i = 0; i < 10; i++) await (await fetch(`${app.url}/v1/users/${i}`)).arrayBuffer();
      };
      await waitFor(
        'a few scrapes with 2xx traffic',
        async () => {
          await okOnly();
          const r = await query('count_over_time(http_requests_total{job="api",status_code="200"}[30s])').catch(
            () => [],
          );
          return r.length > 0 && Number(r[0]!.value[1]) >= 3;
        },
        30_000,
        200,
      );
      const errorRatio = targets.find((t) => t.panel === 'Error ratio' && t.refId === 'A')!;
      const before = await query(expand(errorRatio.expr, vars));
      expect(before).toHaveLength(1);
      expect(Number(before[0]!.value[1])).toBe(0);

      // Phase 2: the scripted mix of 2xx, 4xx (404, 429) and 5xx keeps running while the panels are queried.
      let stop = false;
      const load = (async () => {
        while (!stop) await sendLoad(app.url, 1);
      })();
      try {
        await waitFor(
          'several scrapes with 5xx in the rate window',
          async () => {
            const r = await query(
              `count_over_time(http_requests_total{job="api",status_code="500"}[${RATE_INTERVAL}])`,
            ).catch(() => []);
            return r.length > 0 && Number(r[0]!.value[1]) >= 4;
          },
          30_000,
          250,
        );
        const empty: string[] = [];
        for (const t of targets) {
          const result = await query(expand(t.expr, vars));
          if (result.length === 0) empty.push(`${t.panel} ${t.refId}: ${t.expr}`);
        }
        expect(empty).toEqual([]);
        // Control: an expression over a metric the app does not expose is detected as empty.
        expect(await query(`sum(rate(metric_the_app_does_not_have_total[${RATE_INTERVAL}]))`)).toEqual([]);
        const after = await query(expand(errorRatio.expr, vars));
        expect(Number(after[0]!.value[1])).toBeGreaterThan(0);
      } finally {
        stop = true;
        await load;
      }

      // Prometheus scraped the OpenMetrics exposition (its default Accept prefers it) with no error.
      const targetsRes = (await (await fetch(`${prom.url}/api/v1/targets`)).json()) as {
        data: { activeTargets: { health: string; lastError: string }[] };
      };
      expect(targetsRes.data.activeTargets.map((t) => [t.health, t.lastError])).toEqual([['up', '']]);
      expect(app.scrapeAccepts.length).toBeGreaterThan(3);
      expect(app.scrapeAccepts.every((a) => a.startsWith('application/openmetrics-text'))).toBe(true);
      expect(prom.logs()).not.toMatch(/level=error/);
    }, 90_000);
  },
);
