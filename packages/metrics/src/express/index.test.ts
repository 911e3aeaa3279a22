import { EventEmitter } from 'node:events';
import { Histogram } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { MetricsOptionsError } from '../errors.js';
import { createMetrics } from '../metrics.js';
import type { Metrics } from '../types.js';
import { httpMetrics } from './index.js';

const MOUNTS = Symbol.for('@org/metrics.mounts');

const handles: Metrics[] = [];
afterEach(() => {
  for (const h of handles.splice(0)) h.close();
});

interface FakeOptions {
  method?: string;
  url?: string;
  route?: string;
  mounts?: string[];
  status?: number;
}

/** A request/response pair shaped like Node's (res.req is the request, 'close' ends the exchange). */
function exchange({ method = 'GET', url = '/x', route, mounts, status = 200 }: FakeOptions = {}) {
  const req: Record<string | symbol, unknown> = {
    method,
    url,
    route: route === undefined ? undefined : { path: route },
  };
  if (mounts) req[MOUNTS] = mounts.map((pattern) => ({ pattern, route: undefined }));
  const res = Object.assign(new EventEmitter(), {
    statusCode: status,
    writableFinished: false,
    req,
    getHeader: (_name: string): string | undefined => undefined,
  });
  return {
    req,
    res,
    /** The response was written completely, then the connection closed. */
    finish() {
      res.writableFinished = true;
      res.emit('close');
    },
    /** The client went away before the response was written. */
    abandon() {
      res.emit('close');
    },
  };
}

async function lines(metrics: Metrics, ...prefixes: string[]): Promise<string[]> {
  const { body } = await metrics.scrape();
  return body.split('\n').filter((l) => prefixes.some((p) => l.startsWith(p)));
}

describe('httpMetrics hot path (fake req/res)', () => {
  it('labels method (OTHER for unknown verbs), route (incl. mount prefixes) and status (499 when abandoned) exactly, in first-seen order', async () => {
    const metrics = createMetrics({ runtime: false });
    handles.push(metrics);
    const mw = httpMetrics(metrics);
    const next = () => undefined;
    const run = (o: FakeOptions, end: 'finish' | 'abandon' = 'finish') => {
      const x = exchange(o);
      mw(x.req as never, x.res as never, next);
      x[end]();
    };
    run({ route: '/users/:id' });
    run({ method: 'POST', route: '/users/:id', status: 201 });
    run({ route: '/users/:id' });
    run({ method: 'PURGE', route: '/users/:id' });
    run({ status: 404 });
    run({ route: '/users/:id' }, 'abandon');
    run({ route: '/items/:itemId', mounts: ['/v1', '/users/:id'] });
    run({ method: 'DELETE', route: '/', mounts: ['/v1'] });
    run({ route: '/' });
    run({ method: 'PROPFIND', status: 404 }, 'abandon');
    expect(await lines(metrics, 'http_requests_total{', 'http_request_duration_seconds_count{')).toEqual([
      'http_request_duration_seconds_count{method="GET",route="/users/:id",status_code="200"} 2',
      'http_request_duration_seconds_count{method="POST",route="/users/:id",status_code="201"} 1',
      'http_request_duration_seconds_count{method="OTHER",route="/users/:id",status_code="200"} 1',
      'http_request_duration_seconds_count{method="GET",route="__unmatched__",status_code="404"} 1',
      'http_request_duration_seconds_count{method="GET",route="/users/:id",status_code="499"} 1',
      'http_request_duration_seconds_count{method="GET",route="/v1/users/:id/items/:itemId",status_code="200"} 1',
      'http_request_duration_seconds_count{method="DELETE",route="/v1/",status_code="200"} 1',
      'http_request_duration_seconds_count{method="GET",route="/",status_code="200"} 1',
      'http_request_duration_seconds_count{method="OTHER",route="__unmatched__",status_code="499"} 1',
      'http_requests_total{method="GET",route="/users/:id",status_code="200"} 2',
      'http_requests_total{method="POST",route="/users/:id",status_code="201"} 1',
      'http_requests_total{method="OTHER",route="/users/:id",status_code="200"} 1',
      'http_requests_total{method="GET",route="__unmatched__",status_code="404"} 1',
      'http_requests_total{method="GET",route="/users/:id",status_code="499"} 1',
      'http_requests_total{method="GET",route="/v1/users/:id/items/:itemId",status_code="200"} 1',
      'http_requests_total{method="DELETE",route="/v1/",status_code="200"} 1',
      'http_requests_total{method="GET",route="/",status_code="200"} 1',
      'http_requests_total{method="OTHER",route="__unmatched__",status_code="499"} 1',
    ]);
  });

  it('registers one shared close handler per middleware, not a closure or once-wrapper per request', () => {
    const metrics = createMetrics({ runtime: false });
    handles.push(metrics);
    const mw = httpMetrics(metrics);
    const a = exchange({ route: '/a' });
    const b = exchange({ route: '/b' });
    mw(a.req as never, a.res as never, () => undefined);
    mw(b.req as never, b.res as never, () => undefined);
    expect(a.res.rawListeners('close')).toHaveLength(1);
    expect(a.res.rawListeners('close')).toEqual(a.res.listeners('close'));
    expect(b.res.rawListeners('close')[0]).toBe(a.res.rawListeners('close')[0]);
    const other = exchange({ route: '/a' });
    httpMetrics(metrics)(other.req as never, other.res as never, () => undefined);
    expect(other.res.rawListeners('close')[0]).not.toBe(a.res.rawListeners('close')[0]);
    for (const x of [a, b, other]) x.finish();
  });

  it('keeps in-flight right: up while open, back to 0 after close, unchanged by a repeated close event', async () => {
    const metrics = createMetrics({ runtime: false });
    handles.push(metrics);
    const mw = httpMetrics(metrics);
    const a = exchange({ route: '/a' });
    const b = exchange({ route: '/b' });
    mw(a.req as never, a.res as never, () => undefined);
    mw(b.req as never, b.res as never, () => undefined);
    expect(await lines(metrics, 'http_requests_in_flight ')).toEqual(['http_requests_in_flight 2']);
    a.finish();
    expect(await lines(metrics, 'http_requests_in_flight ')).toEqual(['http_requests_in_flight 1']);
    a.res.emit('close');
    b.abandon();
    b.res.emit('close');
    expect(await lines(metrics, 'http_requests_in_flight ', 'http_requests_total{')).toEqual([
      'http_requests_total{method="GET",route="/a",status_code="200"} 1',
      'http_requests_total{method="GET",route="/b",status_code="499"} 1',
      'http_requests_in_flight 0',
    ]);
  });

  it('a middleware installed twice on one request counts it per installation and leaves in-flight at 0', async () => {
    const metrics = createMetrics({ runtime: false });
    handles.push(metrics);
    const mw = httpMetrics(metrics);
    const x = exchange({ route: '/twice' });
    mw(x.req as never, x.res as never, () => undefined);
    mw(x.req as never, x.res as never, () => undefined);
    expect(await lines(metrics, 'http_requests_in_flight ')).toEqual(['http_requests_in_flight 2']);
    x.finish();
    expect(await lines(metrics, 'http_requests_in_flight ', 'http_requests_total{')).toEqual([
      'http_requests_total{method="GET",route="/twice",status_code="200"} 2',
      'http_requests_in_flight 0',
    ]);
  });

  it('two middlewares on one registry measure the same response independently', async () => {
    const metrics = createMetrics({ runtime: false });
    handles.push(metrics);
    const first = httpMetrics(metrics);
    const second = httpMetrics(metrics);
    const x = exchange({ route: '/both' });
    first(x.req as never, x.res as never, () => undefined);
    second(x.req as never, x.res as never, () => undefined);
    expect(await lines(metrics, 'http_requests_in_flight ')).toEqual(['http_requests_in_flight 2']);
    x.finish();
    expect(await lines(metrics, 'http_requests_in_flight ', 'http_requests_total{')).toEqual([
      'http_requests_total{method="GET",route="/both",status_code="200"} 2',
      'http_requests_in_flight 0',
    ]);
  });
});

describe('httpMetrics registration of http_request_duration_seconds', () => {
  const make = () => {
    const metrics = createMetrics({ runtime: false });
    handles.push(metrics);
    return metrics;
  };

  it('refuses an identical definition made as a plain prom-client histogram, saying so', () => {
    const metrics = make();
    metrics.histogram({
      name: 'http_request_duration_seconds',
      help: 'Duration of HTTP requests from arrival to the response being sent, in seconds.',
      labelNames: ['method', 'route', 'status_code'],
    });
    expect(() => httpMetrics(metrics)).toThrow(
      expect.objectContaining({
        code: 'METRICS_CONFLICT',
        existing: expect.stringMatching(
          /^histogram\(.* as a plain prom-client histogram \(let httpMetrics create it\)$/,
        ),
      }),
    );
  });

  it('refuses a metric registered outside @org/metrics', () => {
    const metrics = make();
    new Histogram({ name: 'http_request_duration_seconds', help: 'Raw.', registers: [metrics.registry] });
    expect(() => httpMetrics(metrics)).toThrow(
      expect.objectContaining({ code: 'METRICS_CONFLICT', existing: 'a metric registered outside @org/metrics' }),
    );
  });

  it('names the existing definition when another middleware made the histogram with other buckets', () => {
    const metrics = make();
    httpMetrics(metrics, { buckets: [1, 2] });
    expect(() => httpMetrics(metrics, { buckets: [1, 3] })).toThrow(
      expect.objectContaining({
        code: 'METRICS_CONFLICT',
        existing: expect.stringContaining('buckets=[1,2]'),
        requested: expect.stringContaining('buckets=[1,3]'),
      }),
    );
  });

  it.each([[[]], [[2, 1]], [[1, Number.NaN]], [5], ['0.1,1']])(
    'rejects buckets %j with MetricsOptionsError (METRICS_INVALID_OPTIONS)',
    (buckets) => {
      const metrics = make();
      expect(() => httpMetrics(metrics, { buckets: buckets as never })).toThrow(MetricsOptionsError);
      expect(() => httpMetrics(metrics, { buckets: buckets as never })).toThrow(
        /options\.buckets must be a non-empty ascending list of finite numbers/,
      );
    },
  );

  it('metrics.histogram rejects the same buckets with METRICS_INVALID_DEFINITION', () => {
    const metrics = make();
    expect(() => metrics.histogram({ name: 'h_seconds', help: 'H.', buckets: [2, 1] })).toThrow(
      expect.objectContaining({ code: 'METRICS_INVALID_DEFINITION' }),
    );
  });
});
