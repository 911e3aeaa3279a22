import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { afterEach, describe, expect, it } from 'vitest';
import { createMetrics, metricsHandler, MetricsOptionsError, type Metrics } from '../src/index.js';
import { httpMetrics, type HttpMetricsOptions } from '../src/express/index.js';

// customLabels and latencyExclude over real HTTP (Express 5, fetch), read back from /metrics.

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

async function start(options: HttpMetricsOptions): Promise<Running> {
  const metrics = createMetrics({ runtime: false });
  const app = express();
  app.use(httpMetrics(metrics, options));
  app.get('/metrics', metricsHandler(metrics));
  app.get('/items/:id', (_req, res) => {
    res.json({ ok: true });
  });
  // Server-sent events: the stream stays open until the client leaves.
  app.get('/events', (_req, res) => {
    res.setHeader('Content-Type', 'text/event-stream; charset=utf-8');
    res.write('data: hello\n\n');
  });
  // A long poll that is not an event stream, excluded by route.
  app.get('/feed/:topic', (_req, res) => {
    setTimeout(() => res.type('application/json').send('[]'), 150);
  });
  const server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const r = { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, metrics, server };
  running.push(r);
  return r;
}

async function samples(r: Running, name: string): Promise<string[]> {
  const body = await (await fetch(`${r.url}/metrics`)).text();
  return body.split('\n').filter((l) => l.startsWith(`${name}{`));
}

async function get(url: string, headers: Record<string, string> = {}): Promise<number> {
  const res = await fetch(url, { headers });
  await res.arrayBuffer();
  return res.status;
}

describe('customLabels', () => {
  it('labels requests with the declared values and sends everything else, hostile input included, to one overflow value', async () => {
    const r = await start({
      customLabels: { platform: { values: ['ios', 'android', 'web'], value: (req) => req.get('x-platform') } },
    });
    await get(`${r.url}/items/1`, { 'x-platform': 'ios' });
    await get(`${r.url}/items/2`, { 'x-platform': 'ios' });
    await get(`${r.url}/items/3`, { 'x-platform': 'web' });
    // 500 distinct hostile values, case variants and a missing header: one series between them.
    for (let i = 0; i < 500; i++) await get(`${r.url}/items/${i}`, { 'x-platform': `evil-${i}-${'x'.repeat(i % 50)}` });
    await get(`${r.url}/items/9`, { 'x-platform': 'IOS' });
    await get(`${r.url}/items/9`);
    const totals = await samples(r, 'http_requests_total');
    expect(totals.sort()).toEqual([
      'http_requests_total{method="GET",route="/items/:id",status_code="200",platform="__other__"} 502',
      'http_requests_total{method="GET",route="/items/:id",status_code="200",platform="ios"} 2',
      'http_requests_total{method="GET",route="/items/:id",status_code="200",platform="web"} 1',
    ]);
    const counts = await samples(r, 'http_request_duration_seconds_count');
    expect(counts.map((l) => /platform="([^"]+)"/.exec(l)![1]).sort()).toEqual(['__other__', 'ios', 'web']);
  });

  it('a custom overflow value, a reader that throws, and the response available to the reader', async () => {
    const r = await start({
      customLabels: {
        outcome: {
          values: ['ok', 'missing'],
          value: (_req, res) => (res.statusCode < 400 ? 'ok' : 'missing'),
          overflow: 'unknown',
        },
        tenant: {
          values: ['acme'],
          value: () => {
            throw new Error('no tenant');
          },
        },
      },
    });
    expect(await get(`${r.url}/items/1`)).toBe(200);
    expect(await get(`${r.url}/nope`)).toBe(404);
    const totals = await samples(r, 'http_requests_total');
    expect(totals.sort()).toEqual([
      'http_requests_total{method="GET",route="/items/:id",status_code="200",outcome="ok",tenant="__other__"} 1',
      'http_requests_total{method="GET",route="__unmatched__",status_code="404",outcome="missing",tenant="__other__"} 1',
    ]);
  });

  const refused: [unknown, RegExp][] = [
    [{ route: { values: ['a'], value: () => 'a' } }, /reserved/],
    [{ 'bad-name': { values: ['a'], value: () => 'a' } }, /invalid/],
    [{ x: { values: [], value: () => 'a' } }, /1 to 100 distinct/],
    [{ x: { values: ['a', 'a'], value: () => 'a' } }, /1 to 100 distinct/],
    [{ x: { values: ['a'], value: 'a' } }, /must be a function/],
    [{ x: { values: ['a'], value: () => 'a', overflow: 'a' } }, /overflow/],
    [
      {
        a: { values: Array.from({ length: 100 }, (_, i) => `v${i}`), value: (): string => 'v' },
        b: { values: Array.from({ length: 100 }, (_, i) => `v${i}`), value: (): string => 'v' },
      },
      /combinations/,
    ],
  ];
  it.each(refused)('refuses %j at construction', (customLabels, message) => {
    const metrics = createMetrics({ runtime: false });
    try {
      expect(() => httpMetrics(metrics, { customLabels } as never)).toThrow(MetricsOptionsError);
      expect(() => httpMetrics(metrics, { customLabels } as never)).toThrow(message);
    } finally {
      metrics.close();
    }
  });
});

describe('latencyExclude', () => {
  it('by default leaves text/event-stream responses out of the latency histogram and still counts them', async () => {
    const r = await start({});
    await get(`${r.url}/items/1`);
    const controller = new AbortController();
    const stream = await fetch(`${r.url}/events`, { signal: controller.signal });
    expect(stream.headers.get('content-type')).toContain('text/event-stream');
    const reader = stream.body!.getReader();
    await reader.read();
    await new Promise((resolve) => setTimeout(resolve, 300));
    controller.abort();
    await reader.read().catch(() => undefined);
    // The server sees the client go away.
    let totals: string[] = [];
    for (let i = 0; i < 50 && !totals.some((l) => l.includes('/events')); i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      totals = await samples(r, 'http_requests_total');
    }
    expect(totals).toContain('http_requests_total{method="GET",route="/events",status_code="499"} 1');
    const counts = await samples(r, 'http_request_duration_seconds_count');
    expect(counts.some((l) => l.includes('route="/events"') && !l.endsWith(' 0'))).toBe(false);
    expect(counts).toContain(
      'http_request_duration_seconds_count{method="GET",route="/items/:id",status_code="200"} 1',
    );
  });

  it('by route (exact template or RegExp); an empty contentTypes list times event streams again', async () => {
    const r = await start({ latencyExclude: { contentTypes: [], routes: [/^\/feed\//] } });
    expect(await get(`${r.url}/feed/news`)).toBe(200);
    const controller = new AbortController();
    const stream = await fetch(`${r.url}/events`, { signal: controller.signal });
    await stream.body!.getReader().read();
    controller.abort();
    let counts: string[] = [];
    for (let i = 0; i < 50 && !counts.some((l) => l.includes('/events')); i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      counts = await samples(r, 'http_request_duration_seconds_count');
    }
    expect(counts).toContain('http_request_duration_seconds_count{method="GET",route="/events",status_code="499"} 1');
    expect(counts.some((l) => l.includes('route="/feed/:topic"') && !l.endsWith(' 0'))).toBe(false);
    expect(await samples(r, 'http_requests_total')).toContain(
      'http_requests_total{method="GET",route="/feed/:topic",status_code="200"} 1',
    );
  });

  it('refuses bad shapes at construction', () => {
    const metrics = createMetrics({ runtime: false });
    try {
      expect(() => httpMetrics(metrics, { latencyExclude: { contentTypes: ['event-stream'] } })).toThrow(
        MetricsOptionsError,
      );
      expect(() => httpMetrics(metrics, { latencyExclude: { routes: [42 as never] } })).toThrow(MetricsOptionsError);
      expect(() => httpMetrics(metrics, { latencyExclude: 'sse' as never })).toThrow(MetricsOptionsError);
    } finally {
      metrics.close();
    }
  });
});
