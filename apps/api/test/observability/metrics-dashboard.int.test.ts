// The dashboard live check against the reference API (not the metrics package's example app): Debian's prometheus
// scrapes the real src/main.ts (demo mode: the fake GHL in-process, so GHL calls and analyses are real) under a mix
// of 2xx, 401, 404, 429 and 500, a signed Stripe webhook is delivered, a background analysis runs through the
// in-process queue, and every panel query of ops/grafana/dashboards/api-overview.json returns at least one series.
// Reuses @org/metrics' test helpers.
import {
  hasSharedPostgres,
  prometheusBinary,
  sharedPostgres,
  startPrometheus,
  waitFor,
  type PrivatePrometheus,
  type SharedPostgres,
} from '@org/test-services';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expand, loadDashboard, targetsOf } from '@org/ops/checks';

import { stripeSignatureHeader } from '../../fakes/stripe/server.js';
import { spawnApp, waitReady, type AppProcess } from '../support/child.js';
import { TEST_SECRETS } from '../support/app.js';

const prometheus = prometheusBinary('prometheus');
const pgUp = await hasSharedPostgres();
const RATE_INTERVAL = '8s';
const DEMO_WORKFLOW = '2131b35d-8546-53d3-857c-5ef0c31c2985';

describe.skipIf(!prometheus || !pgUp)(
  'dashboard live check against the reference API (prometheus scrapes src/main.ts)',
  () => {
    let pg: SharedPostgres;
    let app: AppProcess;
    let prom: PrivatePrometheus;
    const query = (expr: string) => prom.query(expr);

    beforeAll(async () => {
      pg = await sharedPostgres('api_dashboard');
      app = await spawnApp('test/support/main-with-test-routes.ts', {
        NODE_ENV: 'development',
        DEMO_MODE: 'true',
        DATABASE_URL: pg.url,
        SESSION_SECRET: TEST_SECRETS.sessionSecret,
        INTERNAL_TOKEN: TEST_SECRETS.internalToken,
        STRIPE_WEBHOOK_SECRET: TEST_SECRETS.stripeWebhookSecret,
      });
      await waitReady(app);
      prom = await startPrometheus({
        scrapeConfigs: ['  - job_name: api', `    static_configs: [{ targets: ['127.0.0.1:${app.port}'] }]`],
      });
    }, 120_000);

    afterAll(async () => {
      await prom?.stop();
      app?.child.kill('SIGTERM');
      await app?.exited;
      await pg?.cleanup();
    });

    it('every panel query returns at least one series', async () => {
      // A demo session: GHL calls (fake GHL), cached lists, one analysis.
      const login = await fetch(`${app.base}/auth/demo/login`, { method: 'POST' });
      expect(login.status).toBeLessThan(400);
      const cookie = login.headers
        .getSetCookie()
        .map((c) => c.split(';')[0])
        .join('; ');
      expect((await fetch(`${app.base}/api/workflows`, { headers: { cookie } })).status).toBe(200);
      const analysis = await fetch(`${app.base}/api/analyze`, {
        method: 'POST',
        headers: { cookie, 'content-type': 'application/json' },
        body: JSON.stringify({ workflowId: DEMO_WORKFLOW }),
      });
      expect(analysis.status).toBe(200);
      // A background analysis (POST /analyze with async: true) of another demo workflow, followed until it completes:
      // analysis_jobs_total, analysis_job_duration_seconds and the queue depth come from the real queue.
      const workflows = (
        (await (await fetch(`${app.base}/api/workflows`, { headers: { cookie } })).json()) as {
          data: { id: string; hasDefinition: boolean }[];
        }
      ).data;
      const background = workflows.find((w) => w.id !== DEMO_WORKFLOW && w.hasDefinition)!;
      expect(background).toBeDefined();
      const queued = await fetch(`${app.base}/api/analyze`, {
        method: 'POST',
        headers: { cookie, 'content-type': 'application/json' },
        body: JSON.stringify({ workflowId: background.id, async: true }),
      });
      expect(queued.status).toBe(202);
      const { jobId } = ((await queued.json()) as { data: { jobId: string } }).data;
      let job: { status: string; error: string | null } | undefined;
      await waitFor(
        'the background analysis to end',
        async () => {
          job = (
            (await (await fetch(`${app.base}/api/jobs/${jobId}`, { headers: { cookie } })).json()) as {
              data: { status: string; error: string | null };
            }
          ).data;
          return job.status === 'completed' || job.status === 'failed';
        },
        30_000,
        100,
      );
      expect(job).toMatchObject({ status: 'completed', error: null });
      // A signed Stripe webhook (an event type billing ignores still counts in subscription_events_total).
      const payload = JSON.stringify({
        id: 'evt_dashboard_1',
        object: 'event',
        type: 'customer.created',
        created: Math.floor(Date.now() / 1000),
        data: { object: { id: 'cus_dashboard', object: 'customer' } },
      });
      const hook = await fetch(`${app.base}/webhooks/stripe`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'stripe-signature': stripeSignatureHeader(payload, TEST_SECRETS.stripeWebhookSecret),
        },
        body: payload,
      });
      expect(hook.status).toBeLessThan(300);

      let stop = false;
      const load = (async () => {
        while (!stop) {
          // 2xx (session), 401 and then 429 (anonymous), 404, 500.
          for (const r of await Promise.all([
            fetch(`${app.base}/api/workflows`, { headers: { cookie } }),
            fetch(`${app.base}/api/me`),
            fetch(`${app.base}/no/such/path`),
            fetch(`${app.base}/api/test/throw`),
          ]))
            await r.arrayBuffer();
          await new Promise((r) => setTimeout(r, 100));
        }
      })();
      try {
        await waitFor(
          'several scrapes with 5xx, 429 and the completed job in the rate window',
          async () => {
            const r5 = (await query(
              `count_over_time(http_requests_total{job="api",status_code="500"}[${RATE_INTERVAL}])`,
            ).catch(() => [])) as { value: [number, string] }[];
            const r429 = (await query('rate_limit_exceeded_total{job="api"}').catch(() => [])) as unknown[];
            const jobs = (await query(
              `count_over_time(analysis_jobs_total{job="api",outcome="completed"}[${RATE_INTERVAL}])`,
            ).catch(() => [])) as { value: [number, string] }[];
            return (
              r5.length > 0 &&
              Number(r5[0]!.value[1]) >= 4 &&
              r429.length > 0 &&
              jobs.length > 0 &&
              Number(jobs[0]!.value[1]) >= 4
            );
          },
          45_000,
          250,
        );
        const vars = { job: 'api', instance: '.+', rateInterval: RATE_INTERVAL };
        const empty: string[] = [];
        const panelTargets = targetsOf(loadDashboard());
        expect(panelTargets.length).toBeGreaterThan(10);
        for (const t of panelTargets) {
          if ((await query(expand(t.expr, vars))).length === 0) empty.push(`${t.panel} ${t.refId}: ${t.expr}`);
        }
        expect(empty).toEqual([]);
        expect(await query(`sum(rate(metric_the_app_does_not_have_total[${RATE_INTERVAL}]))`)).toEqual([]);

        // The queue row reads the real queue, not only its "or vector(0)" fallbacks: the job's attempt and duration
        // are there, depth is reported for every state, and with no failed job the failure ratio reads 0.
        const panel = (title: string, refId = 'A') =>
          expand(panelTargets.find((t) => t.panel === title && t.refId === refId)!.expr, vars);
        const value = (r: { value: [number, string] }[]) => Number(r[0]!.value[1]);
        expect(value(await query('analysis_jobs_total{job="api",outcome="completed"}'))).toBeGreaterThanOrEqual(1);
        expect(
          value(await query('analysis_job_duration_seconds_count{job="api",outcome="completed"}')),
        ).toBeGreaterThanOrEqual(1);
        expect((await query(panel('Job throughput by outcome'))).map((r) => r.metric.outcome)).toContain('completed');
        expect((await query(panel('Queue depth'))).map((r) => r.metric.state).sort()).toEqual([
          'active',
          'delayed',
          'queued',
        ]);
        expect(value(await query(panel('Failed jobs kept')))).toBe(0);
        const failureRatio = await query(panel('Job failure ratio'));
        expect(failureRatio).toHaveLength(1);
        expect(value(failureRatio)).toBe(0);
      } finally {
        stop = true;
        await load;
      }
      const targets = (await (await fetch(`${prom.url}/api/v1/targets`)).json()) as {
        data: { activeTargets: { health: string; lastError: string }[] };
      };
      expect(targets.data.activeTargets.map((t) => [t.health, t.lastError])).toEqual([['up', '']]);
      expect(prom.logs()).not.toMatch(/level=error/);
    }, 120_000);
  },
);
