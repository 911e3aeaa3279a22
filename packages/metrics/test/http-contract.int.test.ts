import { afterEach, describe, expect, it } from 'vitest';
import { createMetrics } from '../src/index.js';
import { bindings, type ContractOptions, type Hooks, type Running } from './bindings.js';

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

// One contract, every framework binding: the same requests give the same metric names, labels and values.
describe.each(bindings)('httpMetrics contract on $name', (binding) => {
  const running: Running[] = [];
  afterEach(async () => {
    for (const r of running.splice(0)) await r.close();
  });

  async function start(options: ContractOptions = {}, hooks: Hooks = {}): Promise<Running> {
    const r = await binding.start(options, hooks);
    running.push(r);
    return r;
  }

  it('labels requests with the full route template, also under routers mounted on parameter paths', async () => {
    const r = await start();
    expect(await get(`${r.url}/v1/users/7/items/9`)).toBe(200);
    expect(await get(`${r.url}/v1/ping`)).toBe(200);
    expect(await get(`${r.url}/orders/42`)).toBe(201);
    const lines = await samples(r, 'http_requests_total');
    expect(lines).toContain(
      'http_requests_total{method="GET",route="/v1/users/:id/items/:itemId",status_code="200"} 1',
    );
    expect(lines).toContain('http_requests_total{method="GET",route="/v1/ping",status_code="200"} 1');
    expect(lines).toContain('http_requests_total{method="GET",route="/orders/:orderId",status_code="201"} 1');
    expect(lines.join('\n')).not.toContain('/v1/users/7');
  });

  it('keeps the template when an error handler outside the nested router answers', async () => {
    const r = await start();
    expect(await get(`${r.url}/v1/users/8/fail`)).toBe(500);
    expect(await samples(r, 'http_requests_total')).toContain(
      'http_requests_total{method="GET",route="/v1/users/:id/fail",status_code="500"} 1',
    );
  });

  it('does not measure /metrics and health routes by default', async () => {
    const r = await start();
    await get(`${r.url}/health`);
    await get(`${r.url}/metrics`);
    await get(`${r.url}/metrics?x=1`);
    const lines = await samples(r, 'http_requests_total');
    expect(lines).toEqual([]);
  });

  it('puts every unmatched request under one fixed route label', async () => {
    const r = await start();
    for (const path of ['/nope', '/v1/nope', '/v1/users/1/nope', '/a/b/c?q=1'])
      expect(await get(`${r.url}${path}`)).toBe(404);
    const lines = await samples(r, 'http_requests_total');
    expect(lines).toEqual(['http_requests_total{method="GET",route="__unmatched__",status_code="404"} 4']);
  });

  it('300 random-id and 300 unknown-path requests give at most 2 label sets on the duration histogram', async () => {
    const r = await start();
    const rand = () => Math.random().toString(36).slice(2, 10);
    for (let batch = 0; batch < 30; batch++) {
      await Promise.all(Array.from({ length: 10 }, () => get(`${r.url}/users/${rand()}`)));
      await Promise.all(Array.from({ length: 10 }, () => get(`${r.url}/${rand()}/${rand()}`)));
    }
    const counts = (await samples(r, 'http_request_duration_seconds_count')).map(routeOf);
    expect(new Set(counts)).toEqual(new Set(['/users/:id', '__unmatched__']));
  });

  it('caps distinct routes: new routes past the cap go to the overflow label and are counted', async () => {
    const r = await start({ maxRoutes: 2 });
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
    const r = await start(
      {},
      {
        slow: async () => {
          entered();
          await gate;
        },
      },
    );
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
    const r = await start(
      {},
      {
        hang: (onClose) => {
          onClose(() => setImmediate(closed));
          entered();
        },
      },
    );
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
    const r = await start({ buckets: [0.1, 1] });
    await get(`${r.url}/v1/ping`);
    const les = (await samples(r, 'http_request_duration_seconds_bucket')).map((l) => /le="([^"]+)"/.exec(l)?.[1]);
    expect(les).toEqual(['0.1', '1', '+Inf']);
  });

  it('never puts raw URLs, query strings, emails or ids into /metrics ', async () => {
    const r = await start();
    const probes = [
      '/users/jane.doe@example.com',
      `/x/${crypto.randomUUID()}`,
      '/v1/ping?token=s3cr3t-token-value',
      '/v1/users/5f2b9c1e8a7d/items/123?email=a@b.c',
    ];
    for (let i = 0; i < 50; i++) probes.push(`/${Math.random().toString(36).slice(2)}?id=${i}`);
    for (const p of probes) await get(`${r.url}${p}`);
    const body = await (await fetch(`${r.url}/metrics`)).text();
    expect(body).not.toMatch(/@|[0-9a-f]{8}-[0-9a-f]{4}-|\?|s3cr3t|5f2b9c1e8a7d/);
    const routes = new Set(body.split('\n').map(routeOf).filter(Boolean));
    expect(routes).toEqual(new Set(['/users/:id', '/v1/ping', '/v1/users/:id/items/:itemId', '__unmatched__']));
  });

  it('two installations on one registry share the same metrics (no "already registered")', async () => {
    const metrics = createMetrics({ runtime: false });
    const a = await binding.start({}, {}, metrics);
    const b = await binding.start({}, {}, metrics);
    running.push(a, b);
    for (const r of [a, b]) expect(await get(`${r.url}/v1/ping`)).toBe(200);
    const body = (await metrics.scrape()).body;
    expect(body).toContain('http_requests_total{method="GET",route="/v1/ping",status_code="200"} 2');
    expect(body).toContain('http_request_duration_seconds_count{method="GET",route="/v1/ping",status_code="200"} 2');
  });
});
