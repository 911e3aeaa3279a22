import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { afterEach, describe, expect, it } from 'vitest';
import { createMetrics, metricsHandler, type Metrics } from '../src/index.js';
import { httpMetrics, type HttpMetricsOptions } from '../src/express/index.js';

interface Running {
  url: string;
  metrics: Metrics;
  server: Server;
}
const running: Running[] = [];
afterEach(async () => {
  for (const r of running.splice(0)) {
    r.server.closeAllConnections();
    await new Promise((resolve) => r.server.close(resolve));
    r.metrics.close();
  }
});

async function start(build: (app: express.Express) => void, options: HttpMetricsOptions = {}): Promise<Running> {
  const metrics = createMetrics({ runtime: false });
  const app = express();
  app.use(httpMetrics(metrics, options));
  app.get('/metrics', metricsHandler(metrics));
  app.get('/health', (_req, res) => {
    res.send('ok');
  });
  build(app);
  app.use((_req, res) => {
    res.status(404).send('nope');
  });
  app.use((_err: unknown, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
    res.status(500).send('err');
  });
  const server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const r = { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, metrics, server };
  running.push(r);
  return r;
}

async function get(url: string, init?: RequestInit): Promise<number> {
  const res = await fetch(url, init);
  await res.arrayBuffer();
  return res.status;
}

function nestedApp(app: express.Express) {
  const v1 = express.Router();
  const users = express.Router({ mergeParams: true });
  users.get('/items/:itemId', (_req, res) => {
    res.send('item');
  });
  users.get('/fail', () => {
    throw new Error('nested failure');
  });
  v1.use('/users/:id', users);
  v1.get('/ping', (_req, res) => {
    res.send('pong');
  });
  app.use('/v1', v1);
  app.get('/orders/:orderId', (_req, res) => {
    res.status(201).send('x');
  });
}

describe('httpMetrics on Express 5', () => {
  it('leaves the router tree walkable (layer.handle.stack) for route-table tools', async () => {
    let app!: express.Express;
    const r = await start((a) => {
      app = a;
      nestedApp(a);
    });
    await get(`${r.url}/v1/users/1/items/2`);
    const stack = (app as unknown as { router: { stack: { handle: { stack?: unknown[] } }[] } }).router.stack;
    expect(stack.some((l) => Array.isArray(l.handle.stack))).toBe(true);
  });

  it('still counts when identical RED metrics were registered before without the scrape-time sync', async () => {
    const metrics = createMetrics({ runtime: false });
    metrics.counter({
      name: 'http_requests_total',
      help: 'HTTP requests completed.',
      labelNames: ['method', 'route', 'status_code'],
    });
    metrics.gauge({ name: 'http_requests_in_flight', help: 'HTTP requests being served right now.' });
    const app = express();
    app.use(httpMetrics(metrics));
    app.get('/x', (_req, res) => {
      res.send('x');
    });
    const server = app.listen(0, '127.0.0.1');
    await once(server, 'listening');
    running.push({ url: '', metrics, server });
    await get(`http://127.0.0.1:${(server.address() as AddressInfo).port}/x`);
    const body = (await metrics.scrape()).body;
    expect(body).toContain('http_requests_total{method="GET",route="/x",status_code="200"} 1');
    expect(body).toContain('http_requests_in_flight 0');
  });

  it('adds exemplars only to the OpenMetrics exposition', async () => {
    const r = await start(nestedApp, { exemplar: () => ({ trace_id: 'abc123' }) });
    await get(`${r.url}/v1/ping`);
    const text = await (await fetch(`${r.url}/metrics`)).text();
    const om = await (
      await fetch(`${r.url}/metrics`, { headers: { accept: 'application/openmetrics-text; version=1.0.0' } })
    ).text();
    expect(text).not.toContain('trace_id');
    expect(om).toMatch(
      /http_request_duration_seconds_bucket\{[^}]*route="\/v1\/ping"[^}]*\} 1 # \{trace_id="abc123"\} [0-9.e-]+ [0-9.]+/,
    );
  });
});

describe('httpMetrics registration', () => {
  it('refuses to share http_request_duration_seconds with a different definition, naming both', () => {
    const metrics = createMetrics({ runtime: false });
    metrics.histogram({ name: 'http_request_duration_seconds', help: 'Other.', labelNames: ['method'] });
    expect(() => httpMetrics(metrics)).toThrow(
      /http_request_duration_seconds.*help="Other\.".*help="Duration of HTTP requests/,
    );
  });
});

describe('httpMetrics(...).wrap(app): measuring without a router layer', () => {
  it('gives the same labels as the middleware, including nested parameter mounts, exclusions and unmatched', async () => {
    const metrics = createMetrics({ runtime: false });
    const app = express();
    app.get('/metrics', metricsHandler(metrics));
    nestedApp(app);
    app.use((_req, res) => {
      res.status(404).send('nope');
    });
    const { createServer } = await import('node:http');
    const server = createServer(httpMetrics(metrics).wrap(app)).listen(0, '127.0.0.1');
    await once(server, 'listening');
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    running.push({ url, metrics, server });
    expect(await get(`${url}/v1/users/7/items/9`)).toBe(200);
    expect(await get(`${url}/nope?x=1`)).toBe(404);
    await get(`${url}/metrics`);
    const lines = (await (await fetch(`${url}/metrics`)).text())
      .split('\n')
      .filter((l) => l.startsWith('http_requests_total{'));
    expect(lines.sort()).toEqual([
      'http_requests_total{method="GET",route="/v1/users/:id/items/:itemId",status_code="200"} 1',
      'http_requests_total{method="GET",route="__unmatched__",status_code="404"} 1',
    ]);
  });
});
