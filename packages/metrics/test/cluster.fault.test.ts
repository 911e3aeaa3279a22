import cluster, { type Worker } from 'node:cluster';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '@org/test-services';
import { aggregateFamilies, createClusterAggregator, createMetrics, type Metrics } from '../src/index.js';

const workerFile = fileURLToPath(new URL('./fixtures/cluster-worker.ts', import.meta.url));
let port = 0;
let primary: Metrics;
const servers: Worker[] = [];
let silent: Worker;

async function fork(mode: 'serve' | 'silent'): Promise<Worker> {
  const worker = cluster.fork({ METRICS_WORKER_MODE: mode, METRICS_PORT: String(port) });
  const [message] = (await once(worker, 'message')) as [{ ready: boolean }];
  expect(message.ready).toBe(true);
  return worker;
}

beforeAll(async () => {
  port = await freePort();
  cluster.setupPrimary({ exec: workerFile, execArgv: ['--import', 'tsx'], silent: false });
  primary = createMetrics({ runtime: false });
  servers.push(await fork('serve'), await fork('serve'));
  silent = await fork('silent');
}, 60_000);

afterAll(async () => {
  for (const w of [...servers, silent]) {
    if (w && !w.isDead()) {
      w.process.kill('SIGKILL');
      await once(w, 'exit');
    }
  }
  primary?.close();
});

const value = (body: string, line: string) => {
  const found = body.split('\n').find((l) => l.startsWith(`${line} `));
  return found === undefined ? undefined : Number(found.slice(line.length + 1));
};

describe('cluster mode with real node:cluster workers', () => {
  it('sums counters and histograms across workers exactly; a silent worker gives partial data and an error count, not a failed scrape', async () => {
    const pids = new Set<string>();
    const k = 60;
    for (let i = 0; i < k; i++) {
      // One connection per request so the primary's round-robin spreads them over the workers.
      const res = await fetch(`http://127.0.0.1:${port}/users/${i}`, { headers: { connection: 'close' } });
      pids.add(res.headers.get('x-worker') ?? '');
      await res.arrayBuffer();
    }
    for (let i = 0; i < 7; i++) {
      const res = await fetch(`http://127.0.0.1:${port}/boom`, { headers: { connection: 'close' } });
      await res.arrayBuffer();
    }
    expect(pids.size).toBe(2);

    const aggregator = createClusterAggregator(primary, { timeoutMs: 1500 });
    const started = Date.now();
    const { body } = await aggregator.scrape();
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(value(body, 'http_requests_total{method="GET",route="/users/:id",status_code="200"}')).toBe(k);
    expect(value(body, 'http_requests_total{method="GET",route="/boom",status_code="500"}')).toBe(7);
    expect(value(body, 'http_request_duration_seconds_count{method="GET",route="/users/:id",status_code="200"}')).toBe(
      k,
    );
    expect(
      value(body, 'http_request_duration_seconds_bucket{method="GET",route="/users/:id",status_code="200",le="+Inf"}'),
    ).toBe(k);
    expect(value(body, 'metrics_cluster_scrape_errors_total{reason="timeout"}')).toBe(1);
    expect(value(body, 'metrics_cluster_workers{state="responded"}')).toBe(2);
    expect(value(body, 'metrics_cluster_workers{state="failed"}')).toBe(1);
    // One # HELP per family even though three processes contributed.
    aggregator.close();
    const helps = body.split('\n').filter((l) => l.startsWith('# HELP http_requests_total '));
    expect(helps).toHaveLength(1);
  });

  it('a worker killed with SIGKILL is left out and counted; the scrape still succeeds', async () => {
    const aggregator = createClusterAggregator(primary, { timeoutMs: 1000 });
    const victim = servers[1]!;
    const pid = victim.process.pid!;
    victim.process.kill('SIGKILL');
    await once(victim, 'exit');
    expect(() => process.kill(pid, 0)).toThrow();
    const { body, contentType } = await aggregator.scrape('application/openmetrics-text');
    expect(contentType).toContain('openmetrics');
    expect(body.endsWith('# EOF\n')).toBe(true);
    expect(value(body, 'metrics_cluster_scrape_errors_total{reason="exited"}')).toBe(1);
    expect(body).toMatch(/^http_requests_total\{method="GET",route="\/users\/:id",status_code="200"\} \d+$/m);
    expect(value(body, 'metrics_cluster_workers{state="responded"}')).toBe(1);
    aggregator.close();
  });
});

describe('aggregateFamilies', () => {
  it('uses the gauge aggregator (max, omit) and always sums counters', () => {
    const fam = (type: string, value: number, aggregator = 'sum') => ({
      name: `m_${type}_${aggregator}`,
      help: 'h',
      type,
      aggregator,
      values: [{ labels: { a: 'x' }, value }],
    });
    const out = aggregateFamilies([
      [fam('counter', 2, 'max'), fam('gauge', 5, 'max'), fam('gauge', 1, 'omit'), fam('gauge', 3)],
      [fam('counter', 3, 'max'), fam('gauge', 7, 'max'), fam('gauge', 1, 'omit'), fam('gauge', 4)],
    ]);
    const byName = Object.fromEntries(out.map((f) => [f.name, f.values[0]?.value]));
    expect(byName).toEqual({ m_counter_max: 5, m_gauge_max: 7, m_gauge_sum: 7 });
  });
});
