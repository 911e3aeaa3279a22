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

async function samples(r: Running, name: string): Promise<string[]> {
  const body = await (await fetch(`${r.url}/metrics`)).text();
  return body.split('\n').filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `));
}

const routeOf = (line: string) => /route="([^"]*)"/.exec(line)?.[1];

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
  it('labels requests with the full route template, also under routers mounted on parameter paths', async () => {
    const r = await start(nestedApp);
    expect(await get(`${r.url}/v1/users/7/items/9`)).toBe(200);
    expect(await get(`${r.url}/v1/ping`)).toBe(200);
    expect(await get(`${r.url}/orders/42`)).toBe(201);
    const lines = await samples(r, 'http_requests_total');
    expect(lines).toContain('http_requests_total{method="GET",route="/v1/users/:id/items/:itemId",status_code="200"} 1');
    expect(lines).toContain('http_requests_total{method="GET",route="/v1/ping",status_code="200"} 1');
    expect(lines).toContain('http_requests_total{method="GET",route="/orders/:orderId",status_code="201"} 1');
    expect(lines.join('\n')).not.toContain('/v1/users/7');
  });

  it('keeps the template when an error handler outside the nested router answers', async () => {
    const r = await start(nestedApp);
    expect(await get(`${r.url}/v1/users/8/fail`)).toBe(500);
    expect(await samples(r, 'http_requests_total')).toContain('http_requests_total{method="GET",route="/v1/users/:id/fail",status_code="500"} 1');
  });

  it('does not measure /metrics and health routes by default', async () => {
    const r = await start(nestedApp);
    await get(`${r.url}/health`);
    await get(`${r.url}/metrics`);
    await get(`${r.url}/metrics?x=1`);
    const lines = await samples(r, 'http_requests_total');
    expect(lines).toEqual([]);
  });

  it('puts every unmatched request under one fixed route label', async () => {
    const r = await start(nestedApp);
    for (const path of ['/nope', '/v1/nope', '/v1/users/1/nope', '/a/b/c?q=1']) expect(await get(`${r.url}${path}`)).toBe(404);
    const lines = await samples(r, 'http_requests_total');
    expect(lines).toEqual(['http_requests_total{method="GET",route="__unmatched__",status_code="404"} 4']);
  });

  it('M2: 300 random-id and 300 unknown-path requests give at most 2 label sets on the duration histogram', async () => {
    const r = await start((app) => {
      app.get('/users/:id', (_req, res) => {
        res.send('u');
      });
    });
    const rand = () => Math.random().toString(36).slice(2, 10);
    for (let batch = 0; batch < 30; batch++) {
      await Promise.all(Array.from({ length: 10 }, () => get(`${r.url}/users/${rand()}`)));
      await Promise.all(Array.from({ length: 10 }, () => get(`${r.url}/${rand()}/${rand()}`)));
    }
    const counts = (await samples(r, 'http_request_duration_seconds_count')).map(routeOf);
    expect(new Set(counts)).toEqual(new Set(['/users/:id', '__unmatched__']));
  });

  it('caps distinct routes: new routes past the cap go to the overflow label and are counted', async () => {
    const r = await start((app) => {
      for (const n of [1, 2, 3, 4]) {
        app.get(`/r${n}`, (_req, res) => {
          res.send('r');
        });
      }
    }, { maxRoutes: 2 });
    for (const n of [1, 2, 3, 4, 3]) await get(`${r.url}/r${n}`);
    const routes = new Set((await samples(r, 'http_requests_total')).map(routeOf));
    expect(routes).toEqual(new Set(['/r1', '/r2', '__overflow__']));
    expect(await samples(r, 'http_route_overflow_total')).toEqual(['http_route_overflow_total 3']);
  });

  it('counts requests in flight while they run and returns to 0', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let entered!: () => void;
    const inside = new Promise<void>((resolve) => (entered = resolve));
    const r = await start((app) => {
      app.get('/slow', async (_req, res) => {
        entered();
        await gate;
        res.send('done');
      });
    });
    const pending = get(`${r.url}/slow`);
    await inside;
    expect(await samples(r, 'http_requests_in_flight')).toEqual(['http_requests_in_flight 1']);
    release();
    expect(await pending).toBe(200);
    expect(await samples(r, 'http_requests_in_flight')).toEqual(['http_requests_in_flight 0']);
  });

  it('labels a request the client abandoned 499 and an unknown verb OTHER, and in-flight returns to 0', async () => {
    let entered!: () => void;
    const inside = new Promise<void>((resolve) => (entered = resolve));
    let closed!: () => void;
    const serverSawClose = new Promise<void>((resolve) => (closed = resolve));
    const r = await start((app) => {
      app.get('/hang', (_req, res) => {
        res.once('close', () => setImmediate(closed));
        entered();
      });
      app.all('/any', (_req, res) => {
        res.send('any');
      });
    });
    const { request } = await import('node:http');
    const client = request(`${r.url}/hang`);
    client.on('error', () => {});
    client.end();
    await inside;
    expect(await samples(r, 'http_requests_in_flight')).toEqual(['http_requests_in_flight 1']);
    client.destroy();
    await serverSawClose;
    expect(await get(`${r.url}/any`, { method: 'PURGE' })).toBe(200);
    expect(await samples(r, 'http_requests_total')).toEqual([
      'http_requests_total{method="GET",route="/hang",status_code="499"} 1',
      'http_requests_total{method="OTHER",route="/any",status_code="200"} 1',
    ]);
    expect(await samples(r, 'http_requests_in_flight')).toEqual(['http_requests_in_flight 0']);
  });

  it('uses overridden buckets', async () => {
    const r = await start(nestedApp, { buckets: [0.1, 1] });
    await get(`${r.url}/v1/ping`);
    const les = (await samples(r, 'http_request_duration_seconds_bucket')).map((l) => /le="([^"]+)"/.exec(l)?.[1]);
    expect(les).toEqual(['0.1', '1', '+Inf']);
  });

  it('never puts raw URLs, query strings, emails or ids into /metrics (reliability M1)', async () => {
    const r = await start(nestedApp);
    const probes = ['/users/jane.doe@example.com', `/x/${crypto.randomUUID()}`, '/v1/ping?token=s3cr3t-token-value', '/v1/users/5f2b9c1e8a7d/items/123?email=a@b.c'];
    for (let i = 0; i < 50; i++) probes.push(`/${Math.random().toString(36).slice(2)}?id=${i}`);
    for (const p of probes) await get(`${r.url}${p}`);
    const body = await (await fetch(`${r.url}/metrics`)).text();
    expect(body).not.toMatch(/@|[0-9a-f]{8}-[0-9a-f]{4}-|\?|s3cr3t|5f2b9c1e8a7d/);
    const routes = new Set(body.split('\n').map(routeOf).filter(Boolean));
    expect(routes).toEqual(new Set(['/v1/ping', '/v1/users/:id/items/:itemId', '__unmatched__']));
  });

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
    metrics.counter({ name: 'http_requests_total', help: 'HTTP requests completed.', labelNames: ['method', 'route', 'status_code'] });
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
    const om = await (await fetch(`${r.url}/metrics`, { headers: { accept: 'application/openmetrics-text; version=1.0.0' } })).text();
    expect(text).not.toContain('trace_id');
    expect(om).toMatch(/http_request_duration_seconds_bucket\{[^}]*route="\/v1\/ping"[^}]*\} 1 # \{trace_id="abc123"\} [0-9.e-]+ [0-9.]+/);
  });
});

describe('httpMetrics registration', () => {
  it('refuses to share http_request_duration_seconds with a different definition, naming both', () => {
    const metrics = createMetrics({ runtime: false });
    metrics.histogram({ name: 'http_request_duration_seconds', help: 'Other.', labelNames: ['method'] });
    expect(() => httpMetrics(metrics)).toThrow(/http_request_duration_seconds.*help="Other\.".*help="Duration of HTTP requests/);
  });

  it('two middlewares on one registry share the same metrics (no "already registered")', async () => {
    const metrics = createMetrics({ runtime: false });
    const a = express();
    const b = express();
    a.use(httpMetrics(metrics));
    b.use(httpMetrics(metrics));
    for (const app of [a, b]) {
      app.get('/x', (_req, res) => {
        res.send('x');
      });
    }
    for (const app of [a, b]) {
      const server = app.listen(0, '127.0.0.1');
      await once(server, 'listening');
      running.push({ url: '', metrics, server });
      await get(`http://127.0.0.1:${(server.address() as AddressInfo).port}/x`);
    }
    const body = (await metrics.scrape()).body;
    expect(body).toContain('http_requests_total{method="GET",route="/x",status_code="200"} 2');
    expect(body).toContain('http_request_duration_seconds_count{method="GET",route="/x",status_code="200"} 2');
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
    const lines = (await (await fetch(`${url}/metrics`)).text()).split('\n').filter((l) => l.startsWith('http_requests_total{'));
    expect(lines.sort()).toEqual([
      'http_requests_total{method="GET",route="/v1/users/:id/items/:itemId",status_code="200"} 1',
      'http_requests_total{method="GET",route="__unmatched__",status_code="404"} 1',
    ]);
  });
});
