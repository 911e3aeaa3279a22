import { fork, type ChildProcess } from 'node:child_process';
import { EventEmitter, once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { interleave, markdownTable, measureThroughput, median, ratio, versionsOf } from '@org/bench';
import { Registry } from 'prom-client';
import { createMetrics, metricsHandler } from '../src/index.js';
import { httpMetrics } from '../src/express/index.js';
import { buildApp, VARIANTS, type Variant } from './apps.js';

// pnpm --filter @org/metrics bench   (BENCH_ROUNDS, BENCH_SECONDS to shorten or lengthen)
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 12);
const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 1.5);
const CONCURRENCY = 50;

interface Server {
  variant: Variant;
  child: ChildProcess;
  port: number;
  cpu(): Promise<number>;
}

async function startServer(variant: Variant): Promise<Server> {
  const child = fork(fileURLToPath(new URL('./server.ts', import.meta.url)), [], {
    env: { ...process.env, BENCH_VARIANT: variant, NODE_ENV: 'production' },
    execArgv: ['--import', 'tsx'],
  });
  const [ready] = (await once(child, 'message')) as [{ type: string; port: number }];
  return {
    variant,
    child,
    port: ready.port,
    cpu: () =>
      new Promise((resolve) => {
        const on = (m: { type: string; micros: number }) => {
          if (m.type !== 'cpu') return;
          child.off('message', on);
          resolve(m.micros);
        };
        child.on('message', on);
        child.send({ type: 'cpu' });
      }),
  };
}

function get(agent: http.Agent, port: number, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path, agent }, (res) => {
      res.resume();
      res.once('end', () => resolve(res.statusCode ?? 0));
    });
    req.once('error', reject);
  });
}

interface M1Run {
  rps: number;
  cpuPerReq: number;
  p50: number;
}

async function m1(): Promise<string> {
  const servers = await Promise.all(VARIANTS.map(startServer));
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  const candidates: Record<string, () => Promise<M1Run>> = {};
  for (const s of servers) {
    candidates[s.variant] = async () => {
      await measureThroughput(() => get(agent, s.port, '/users/42'), {
        concurrency: CONCURRENCY,
        durationMs: 300,
        warmupMs: 0,
      });
      const before = await s.cpu();
      const m = await measureThroughput(() => get(agent, s.port, '/users/42'), {
        concurrency: CONCURRENCY,
        durationMs: SECONDS * 1000,
        warmupMs: 0,
      });
      const after = await s.cpu();
      return { rps: m.opsPerSec, cpuPerReq: (after - before) / m.ops, p50: m.p50Ms };
    };
  }
  const runs = await interleave(ROUNDS, candidates);
  agent.destroy();
  for (const s of servers) s.child.kill();
  // Ratios per round (same round = same neighbours), then the median over rounds.
  const perRound = (v: string, field: keyof M1Run) =>
    median(runs[v]!.map((r, i) => r[field] / runs['bare']![i]![field]));
  const rows = VARIANTS.map((v) => [
    v === 'org' ? '**@org/metrics** (app.use)' : v === 'org-wrap' ? '**@org/metrics** (wrap)' : v,
    median(runs[v]!.map((r) => r.rps)),
    `${perRound(v, 'rps').toFixed(3)}x`,
    median(runs[v]!.map((r) => r.cpuPerReq)),
    `${perRound(v, 'cpuPerReq').toFixed(3)}x`,
    `${(median(runs[v]!.map((r) => r.cpuPerReq)) / median(runs['bare']!.map((r) => r.cpuPerReq))).toFixed(3)}x`,
    median(runs[v]!.map((r) => r.p50)),
  ]);
  const bareCpu = median(runs['bare']!.map((r) => r.cpuPerReq));
  const isolated = isolatedCost();
  const note = `\n\n@org/metrics middleware measured in isolation (same run, fake req/res, 5 x 100,000 calls incl. the 'close' listener): **${isolated.toFixed(2)} µs per request**, ${((isolated / bareCpu) * 100).toFixed(1)}% of bare Express's ${bareCpu.toFixed(0)} µs server CPU per request.`;
  return (
    markdownTable(
      [
        'variant',
        'req/s (median)',
        'req/s vs bare (per-round median)',
        'server CPU µs/req',
        'CPU vs bare (per-round median)',
        'CPU vs bare (ratio of medians)',
        'p50 ms',
      ],
      rows,
    ) + note
  );
}

/** The middleware's own cost without sockets or scheduling: what the HTTP rounds cannot resolve through the noise. */
function isolatedCost(): number {
  const metrics = createMetrics({ runtime: false });
  const mw = httpMetrics(metrics);
  const app = { router: { stack: [] } };
  const route = { path: '/users/:id' };
  // Like Node's ServerResponse, the fake response points at its request (res.req).
  const once = () => {
    const req = { url: '/users/42', method: 'GET', app, route };
    const res = Object.assign(new EventEmitter(), { statusCode: 200, writableFinished: true, req });
    mw(req as never, res as never, () => undefined);
    res.emit('close');
  };
  const baseline = () => {
    const res = Object.assign(new EventEmitter(), { statusCode: 200, writableFinished: true });
    res.emit('close');
  };
  const per = (fn: () => void) => {
    const t = performance.now();
    for (let i = 0; i < 100_000; i++) fn();
    return ((performance.now() - t) / 100_000) * 1000;
  };
  const samples: number[] = [];
  for (let k = 0; k < 5; k++) samples.push(per(once) - per(baseline));
  metrics.close();
  return Math.max(0, median(samples));
}

async function m2(): Promise<string> {
  const rows: (string | number)[][] = [];
  for (const variant of ['org', 'org-wrap', 'prom-bundle', 'hand-written'] as const) {
    const { listener, registry, close } = buildApp(variant);
    const server = http.createServer(listener).listen(0, '127.0.0.1');
    await once(server, 'listening');
    const port = (server.address() as AddressInfo).port;
    const agent = new http.Agent({ keepAlive: true, maxSockets: 10 });
    const rand = () => Math.random().toString(36).slice(2, 10);
    await get(agent, port, '/users/1');
    const count = async () => {
      const h = (await registry!.getMetricsAsJSON()).find((m) => m.name === 'http_request_duration_seconds')!;
      const sets = new Set(
        (h.values as { metricName?: string; labels: object }[])
          .filter((v) => v.metricName?.endsWith('_count'))
          .map((v) => JSON.stringify(v.labels)),
      );
      const text = await registry!.metrics();
      return { sets: sets.size, series: text.split('\n').filter((l) => l && !l.startsWith('#')).length };
    };
    const before = await count();
    for (let i = 0; i < 30; i++) {
      await Promise.all(Array.from({ length: 10 }, () => get(agent, port, `/users/${rand()}`)));
      await Promise.all(Array.from({ length: 10 }, () => get(agent, port, `/${rand()}/${rand()}`)));
    }
    const after = await count();
    rows.push([
      variant === 'org' ? '**@org/metrics** (app.use)' : variant === 'org-wrap' ? '**@org/metrics** (wrap)' : variant,
      `${before.sets} → ${after.sets}`,
      `${before.series} → ${after.series}`,
    ]);
    agent.destroy();
    server.closeAllConnections();
    server.close();
    close();
  }
  return markdownTable(['variant', 'duration label sets (300 ids + 300 unknown paths)', 'exposed series'], rows);
}

async function m6(): Promise<string> {
  // 133 label sets x (11 buckets + Inf + sum + count) + a counter per set = 1,995 series, as in the research.
  const metrics = createMetrics({ runtime: false });
  const h = metrics.histogram({
    name: 'http_request_duration_seconds',
    help: 'Duration.',
    labelNames: ['method', 'route', 'status_code'],
  });
  const c = metrics.counter({
    name: 'http_requests_total',
    help: 'Requests.',
    labelNames: ['method', 'route', 'status_code'],
  });
  for (let i = 0; i < 133; i++) {
    const labels = {
      method: i % 2 ? 'GET' : 'POST',
      route: `/v1/resource${i}/:id`,
      status_code: String(200 + (i % 3)),
    };
    for (let k = 0; k < 20; k++) h.observe(labels, Math.random() * 2);
    c.inc(labels, 20);
  }
  const registry: Registry = metrics.registry;
  const ours = await metrics.scrape();
  const theirs = await registry.metrics();
  const series = ours.body.split('\n').filter((l) => l && !l.startsWith('#')).length;
  const theirSeries = theirs.split('\n').filter((l) => l && !l.startsWith('#')).length;
  if (series !== theirSeries) throw new Error(`series differ: ours ${series}, prom-client ${theirSeries}`);

  const time = async (fn: () => Promise<unknown>, n: number) => {
    const out: number[] = [];
    for (let i = 0; i < n; i++) {
      const t = performance.now();
      await fn();
      out.push(performance.now() - t);
    }
    return out;
  };
  const ser = await interleave(10, {
    org: () => time(() => metrics.scrape(), 30),
    'prom-client': () => time(() => registry.metrics(), 30),
    'prom-client (OpenMetrics)': async () => {
      (registry as unknown as { setContentType(t: string): void }).setContentType(Registry.OPENMETRICS_CONTENT_TYPE);
      const r = await time(() => registry.metrics(), 30);
      registry.setContentType(Registry.PROMETHEUS_CONTENT_TYPE);
      return r;
    },
    'org (OpenMetrics)': () => time(() => metrics.scrape('application/openmetrics-text'), 30),
  });

  // HTTP: 200 sequential scrapes of the same registry, ours vs a hand-written prom-client server.
  const handServer = http.createServer((_req, res) => {
    void registry.metrics().then((body) => res.writeHead(200, { 'content-type': registry.contentType }).end(body));
  });
  const orgHandlerServer = http.createServer(metricsHandler(metrics));
  const ports: number[] = [];
  for (const s of [handServer, orgHandlerServer]) {
    s.listen(0, '127.0.0.1');
    await once(s, 'listening');
    ports.push((s.address() as AddressInfo).port);
  }
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const scrape = (port: number) => time(() => get(agent, port, '/metrics'), 50);
  const httpRuns = await interleave(4, {
    'org metricsHandler': () => scrape(ports[1]!),
    'hand-written prom-client': () => scrape(ports[0]!),
  });
  agent.destroy();
  for (const s of [handServer, orgHandlerServer]) s.close();
  metrics.close();

  const flat = (runs: number[][]) => runs.flat();
  const base = median(flat(ser['prom-client']!));
  const rows: (string | number)[][] = Object.entries(ser).map(([name, runs]) => [
    name.startsWith('org') ? `**@org/metrics ${name.slice(3).trim()}**`.replace(' **', '**') : name,
    median(flat(runs)),
    ratio(median(flat(runs)), base),
  ]);
  const httpBase = median(flat(httpRuns['hand-written prom-client']!));
  rows.push([
    'HTTP GET /metrics, **@org/metrics metricsHandler** (200 sequential)',
    median(flat(httpRuns['org metricsHandler']!)),
    ratio(median(flat(httpRuns['org metricsHandler']!)), httpBase),
  ]);
  rows.push(['HTTP GET /metrics, hand-written prom-client server (200 sequential)', httpBase, '1.00x']);
  return `${series} series, ${ours.body.length.toLocaleString('en-US')} bytes\n\n${markdownTable(['what', 'median ms', 'ratio'], rows)}`;
}

const started = Date.now();
const versions = await versionsOf(['express', 'prom-client', 'express-prom-bundle'], import.meta.url);
console.log(
  `# @org/metrics benchmark\n\nNode ${process.version}, ${os.cpus().length} CPU (${os.cpus()[0]?.model.trim()}), load average ${os
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')}`,
);
console.log(
  `Versions: ${Object.entries(versions)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ')}`,
);
console.log(
  `\n## Overhead per request (GET /users/:id, ${CONCURRENCY} keep-alive connections, ${ROUNDS} interleaved rounds x ${SECONDS} s, ratios per round then median)\n`,
);
console.log(await m1());
console.log('\n## Cardinality after 300 random-id and 300 unknown-path requests\n');
console.log(await m2());
console.log(
  '\n## Exposition cost (10 interleaved rounds x 30 serialisations; HTTP 4 rounds x 50 sequential scrapes)\n',
);
console.log(await m6());
console.log(`\n(total ${((Date.now() - started) / 1000).toFixed(0)} s)`);
