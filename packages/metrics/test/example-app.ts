import type { AddressInfo } from 'node:net';
import { once } from 'node:events';
import type { Server } from 'node:http';
import express from 'express';
import { type Registry } from 'prom-client';
import { connect } from 'node:net';
import type pg from 'pg';
import {
  createCacheMetrics,
  createDependencyHealth,
  createExternalApiMetrics,
  createMetrics,
  instrumentPool,
  metricsHandler,
  type Metrics,
} from '../src/index.js';
import { httpMetrics } from '../src/express/index.js';

/**
 * The stand-in for the reference API until it lands: uses the package's helpers to emit every metric
 * the dashboard reads, including the reference business metrics and the reference API's analysis-queue
 * metrics defined with the primitives.
 */
export interface ExampleApp {
  metrics: Metrics;
  server: Server;
  url: string;
  /** Accept headers of the scrapes so far (to prove which format Prometheus negotiated). */
  scrapeAccepts: string[];
  close(): Promise<void>;
}

export function defineBusinessMetrics(metrics: Metrics) {
  return {
    analyses: metrics.counter({
      name: 'workflow_analysis_total',
      help: 'Workflow analyses run, by tier and status.',
      labelNames: ['tier', 'status'],
    }),
    analysisDuration: metrics.histogram({
      name: 'workflow_analysis_duration_seconds',
      help: 'Duration of workflow analyses, by tier, in seconds.',
      labelNames: ['tier'],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    }),
    healthScore: metrics.histogram({
      name: 'workflow_health_score',
      help: 'Health score (0-100) of analysed workflows.',
      buckets: [10, 20, 30, 40, 50, 60, 70, 80, 90, 100],
    }),
    issues: metrics.counter({
      name: 'workflow_issues_found_total',
      help: 'Issues found by workflow analyses, by issue type and severity.',
      labelNames: ['type', 'severity'],
    }),
    activeUsers: metrics.gauge({
      name: 'active_users',
      help: 'Users active in the last 15 minutes, by tier.',
      labelNames: ['tier'],
    }),
    subscriptions: metrics.counter({
      name: 'subscription_events_total',
      help: 'Subscription lifecycle events, by event and tier.',
      labelNames: ['event', 'tier'],
    }),
    rateLimited: metrics.counter({
      name: 'rate_limit_exceeded_total',
      help: 'Requests rejected by the rate limiter, by tier.',
      labelNames: ['tier'],
    }),
  };
}

export type JobState = 'queued' | 'active' | 'delayed' | 'completed' | 'failed';
const JOB_STATES: readonly JobState[] = ['queued', 'active', 'delayed', 'completed', 'failed'];

/**
 * The reference API's analysis-queue metrics (apps/api/src/jobs/metrics.ts: same names, labels, aggregator and
 * buckets), for the dashboard's "Background analysis (queue)" row. `counts` is read at each scrape like the real
 * queue's depth; apps/api/test/metrics-dashboard.int.test.ts checks the same panels against the real queue.
 */
export function defineQueueMetrics(metrics: Metrics, counts: () => Record<JobState, number>) {
  metrics.gauge({
    name: 'analysis_queue_jobs',
    help: 'Analysis jobs by state (queue depth).',
    labelNames: ['state'],
    aggregator: 'max',
    collect() {
      const c = counts();
      for (const state of JOB_STATES) this.set({ state }, c[state]);
    },
  });
  return {
    attempts: metrics.counter({
      name: 'analysis_jobs_total',
      help: 'Analysis job attempts run by this process, by outcome (completed, retry, failed).',
      labelNames: ['outcome'],
    }),
    retries: metrics.counter({
      name: 'analysis_job_retries_total',
      help: 'Analysis job attempts that failed and will be retried (exponential backoff).',
    }),
    duration: metrics.histogram({
      name: 'analysis_job_duration_seconds',
      help: 'Duration of analysis job attempts, in seconds.',
      labelNames: ['outcome'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    }),
  };
}

export interface ExampleAppOptions {
  /** Registry of the "other package" (@org/cache) merged into /metrics. */
  cacheRegistry?: Registry;
  /** A real pg.Pool: instrumented, queried by the analyze route and health-checked. */
  pool?: pg.Pool;
  /** host:port of a Redis whose reachability feeds dependency_up{dependency="redis"}. @default 127.0.0.1:6379 */
  redis?: { host: string; port: number };
  bearerToken?: string;
}

export async function startExampleApp(options: ExampleAppOptions = {}): Promise<ExampleApp> {
  const metrics = createMetrics({
    defaultLabels: { service: 'example' },
    include: options.cacheRegistry ? [options.cacheRegistry] : [],
  });
  const business = defineBusinessMetrics(metrics);
  const cache = createCacheMetrics(metrics);
  const ghl = createExternalApiMetrics(metrics, { name: 'ghl' });
  const pool = options.pool;
  if (pool) instrumentPool(metrics, pool, { name: 'main' });
  const redis = options.redis ?? { host: '127.0.0.1', port: 6379 };
  createDependencyHealth(metrics, {
    checks: {
      ...(pool ? { postgres: () => pool.query('SELECT 1') } : {}),
      // A TCP connect is enough for the example; the reference API pings through its ioredis client.
      redis: () =>
        new Promise<void>((resolve, reject) => {
          const socket = connect(redis.port, redis.host, () => {
            socket.destroy();
            resolve();
          });
          socket.once('error', reject);
        }),
    },
  });
  const tiers = ['free', 'pro', 'enterprise'];
  for (const tier of tiers) business.activeUsers.set({ tier }, 0);

  // Each analysis also queues a background job, run here: every 4th fails its first attempt and is retried after a
  // short delay, every 7th fails for good, the others complete.
  const jobs: Record<JobState, number> = { queued: 0, active: 0, delayed: 0, completed: 0, failed: 0 };
  const queue = defineQueueMetrics(metrics, () => jobs);
  const timers = new Set<NodeJS.Timeout>();
  const later = (ms: number, fn: () => void) => {
    const t = setTimeout(() => {
      timers.delete(t);
      fn();
    }, ms);
    timers.add(t);
  };
  const attempt = (n: number, tries: number) => {
    jobs.active++;
    const started = performance.now();
    later(5, () => {
      jobs.active--;
      const outcome = n % 7 === 0 ? 'failed' : n % 4 === 0 && tries === 1 ? 'retry' : 'completed';
      queue.attempts.inc({ outcome });
      queue.duration.observe({ outcome }, (performance.now() - started) / 1000);
      if (outcome !== 'retry') {
        jobs[outcome]++;
        return;
      }
      queue.retries.inc();
      jobs.delayed++;
      later(20, () => {
        jobs.delayed--;
        attempt(n, tries + 1);
      });
    });
  };
  let jobCount = 0;
  const enqueue = () => {
    const n = ++jobCount;
    jobs.queued++;
    later(0, () => {
      jobs.queued--;
      attempt(n, 1);
    });
  };

  let calls = 0;
  const app = express();
  app.disable('x-powered-by');
  app.use(httpMetrics(metrics));
  const scrapeAccepts: string[] = [];
  app.get('/metrics', (req, _res, next) => {
    scrapeAccepts.push(req.headers.accept ?? '');
    next();
  });
  app.get('/metrics', metricsHandler(metrics, options.bearerToken ? { bearerToken: options.bearerToken } : {}));
  app.get('/health', (_req, res) => {
    res.json({ ok: true });
  });

  const v1 = express.Router();
  const users = express.Router({ mergeParams: true });
  users.get('/items/:itemId', (req, res) => {
    res.json({ user: (req.params as Record<string, string>)['id'], item: req.params.itemId });
  });
  v1.use('/users/:id', users);
  v1.get('/users/:id', (req, res) => {
    res.json({ id: req.params['id'] });
  });
  v1.post('/workflows/:workflowId/analyze', async (req, res) => {
    if (pool) await pool.query('SELECT $1::text AS workflow', [req.params.workflowId]);
    const tier = tiers[Math.floor(Math.random() * tiers.length)]!;
    const started = performance.now();
    const key = `analysis:${req.params['workflowId']}`;
    calls++;
    const hit = calls % 3 !== 0;
    (hit ? cache.hit : cache.miss)('l1');
    cache.observe('get', 'l1', 0.0004);
    if (!hit) {
      cache.miss('l2');
      cache.observe('get', 'l2', 0.002);
    }
    ghl.record(
      'https://services.leadconnectorhq.com/workflows/' + key + '?locationId=abc',
      0.12,
      calls % 2 === 0 ? 503 : 200,
    );
    const score = Math.round(Math.random() * 100);
    business.healthScore.observe(score);
    business.issues.inc({ type: 'missing_trigger', severity: score < 50 ? 'high' : 'low' });
    business.analyses.inc({ tier, status: 'completed' });
    business.analysisDuration.observe({ tier }, (performance.now() - started) / 1000 + 0.05);
    business.activeUsers.set({ tier }, 1 + Math.floor(Math.random() * 5));
    business.subscriptions.inc({ event: 'renewed', tier });
    enqueue();
    res.status(202).json({ score });
  });
  v1.get('/limited', (_req, res) => {
    business.rateLimited.inc({ tier: 'free' });
    res.status(429).json({ error: { code: 'RATE_LIMITED' } });
  });
  v1.get('/boom', async () => {
    if (pool) await pool.query('SELECT * FROM table_that_does_not_exist');
    throw new Error('boom');
  });
  app.use('/v1', v1);
  app.use((_req, res) => {
    res.status(404).json({ error: { code: 'NOT_FOUND' } });
  });
  app.use((_err: unknown, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
    res.status(500).json({ error: { code: 'INTERNAL' } });
  });

  const server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    metrics,
    server,
    url: `http://127.0.0.1:${port}`,
    scrapeAccepts,
    async close() {
      for (const t of timers) clearTimeout(t);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      metrics.close();
    },
  };
}

/** The scripted load: 2xx, 4xx (404 and 429) and 5xx, through nested routers on parameter paths. */
export async function sendLoad(url: string, rounds = 5): Promise<void> {
  for (let i = 0; i < rounds; i++) {
    const id = Math.random().toString(36).slice(2, 10);
    const requests = [
      fetch(`${url}/v1/users/${id}`),
      fetch(`${url}/v1/users/${id}/items/${i}`),
      fetch(`${url}/v1/workflows/${id}/analyze`, { method: 'POST' }),
      fetch(`${url}/v1/limited`),
      fetch(`${url}/v1/boom`),
      fetch(`${url}/no/such/${id}`),
    ];
    for (const r of await Promise.all(requests)) await r.arrayBuffer();
  }
}
