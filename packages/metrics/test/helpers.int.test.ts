import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasSharedPostgres, sharedPostgres, type SharedPostgres } from '@org/test-services';
import { createCache } from '@org/cache';
import {
  createCacheMetrics,
  createExternalApiMetrics,
  createMetrics,
  instrumentPool,
  MetricsOptionsError,
  sanitizePath,
  sqlOperation,
} from '../src/index.js';

const pgUp = await hasSharedPostgres();

const line = (body: string, prefix: string) => body.split('\n').find((l) => l.startsWith(prefix));
const num = (body: string, prefix: string) => Number(line(body, prefix)?.split(' ').pop());

describe.skipIf(!pgUp)('instrumentPool on a real pg.Pool (shared PostgreSQL)', () => {
  let db: SharedPostgres;
  let pool: pg.Pool;
  beforeAll(async () => {
    db = await sharedPostgres('metrics-pool');
    pool = new pg.Pool({ connectionString: db.url, max: 3 });
    // The database is dropped WITH (FORCE) at the end, which may terminate a connection the pool is still closing.
    pool.on('error', () => undefined);
  });
  afterAll(async () => {
    await pool?.end();
    await db?.cleanup();
  });

  it('times queries of pool.query and checked-out clients and counts errors by SQLSTATE, callers unchanged', async () => {
    const metrics = createMetrics({ runtime: false });
    const undo = instrumentPool(metrics, pool, { name: 'main' });
    expect((await pool.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    await new Promise<void>((resolve, reject) => pool.query('select 2', (err) => (err ? reject(err) : resolve())));
    const client = await pool.connect();
    await client.query('BEGIN');
    let activeDuringCheckout = 0;
    {
      const { body } = await metrics.scrape();
      activeDuringCheckout = num(body, 'database_connections_active{pool="main"}');
    }
    await client.query({ text: 'SELECT $1::int AS v', values: [5] });
    await client.query('COMMIT');
    client.release();
    await expect(pool.query('SELECT * FROM no_such_table')).rejects.toMatchObject({ code: '42P01' });

    const { body } = await metrics.scrape();
    expect(activeDuringCheckout).toBe(1);
    expect(num(body, 'database_query_duration_seconds_count{pool="main",operation="select"}')).toBe(4);
    expect(num(body, 'database_query_duration_seconds_count{pool="main",operation="begin"}')).toBe(1);
    expect(num(body, 'database_query_errors_total{pool="main",operation="select",code="42P01"}')).toBe(1);
    expect(num(body, 'database_connections_active{pool="main"}')).toBe(0);
    expect(num(body, 'database_connections_idle{pool="main"}')).toBe(pool.idleCount);
    expect(line(body, 'database_connections_waiting{pool="main"}')).toBeDefined();
    expect(body).not.toContain('no_such_table');
    undo();
    metrics.close();
  });
});

describe('cache and external API helpers', () => {
  it('cache: hits and misses by tier, durations by operation and tier, bounded', async () => {
    const metrics = createMetrics({ runtime: false });
    const cache = createCacheMetrics(metrics);
    cache.hit('l1');
    cache.miss('l2');
    cache.observe('get', 'l1', 0.0003);
    cache.observe('user:42@example.com', 'l1', 0.0003);
    cache.hit('tier with spaces');
    const { body } = await metrics.scrape();
    expect(line(body, 'cache_hits_total{cache="default",tier="l1"}')).toBeDefined();
    expect(line(body, 'cache_misses_total{cache="default",tier="l2"}')).toBeDefined();
    expect(num(body, 'cache_operation_duration_seconds_count{cache="default",operation="get",tier="l1"}')).toBe(1);
    expect(body).not.toContain('@');
    expect(num(body, 'cache_operation_duration_seconds_count{cache="default",operation="other",tier="l1"}')).toBe(1);
    expect(line(body, 'cache_hits_total{cache="default",tier="other"}')).toBeDefined();
  });

  it('cache: shares the registry with the real @org/cache in either order (same series, no conflict)', async () => {
    for (const order of ['cache first', 'helper first'] as const) {
      const metrics = createMetrics({ runtime: false });
      const helperFirst = order === 'helper first' ? createCacheMetrics(metrics, { name: 'app' }) : undefined;
      const real = createCache({ registry: metrics.registry, name: 'app' });
      const helper = helperFirst ?? createCacheMetrics(metrics, { name: 'app' });
      await real.set('k', 1);
      await real.get('k');
      await real.get('absent');
      helper.hit('memory');
      helper.observe('get', 'memory', 0.001);
      const { body } = await metrics.scrape();
      // One series each: the helper's counts land in the same series @org/cache writes.
      expect([order, num(body, 'cache_hits_total{cache="app",tier="memory"}')]).toEqual([order, 2]);
      expect([order, num(body, 'cache_misses_total{cache="app",tier="memory"}')]).toEqual([order, 1]);
      expect(
        num(body, 'cache_operation_duration_seconds_count{cache="app",operation="get",tier="memory"}'),
      ).toBeGreaterThanOrEqual(1);
      await real.close();
      metrics.close();
    }
  });

  it('cache: a name that is not a short word is refused', () => {
    expect(() => createCacheMetrics(createMetrics({ runtime: false }), { name: 'my cache!' })).toThrow(
      MetricsOptionsError,
    );
  });

  it('external API: <name>_api_* with record(endpoint, duration, statusCode, error), ids and query strings stripped', async () => {
    const metrics = createMetrics({ runtime: false });
    const ghl = createExternalApiMetrics(metrics, { name: 'ghl' });
    ghl.record('https://services.leadconnectorhq.com/contacts/ve9EPM428h8vShlRW1KT?email=a@b.c', 0.2, 200);
    ghl.record('/contacts/abcDEF123456', 0.4, 429);
    ghl.record('/workflows', 1.5, undefined, Object.assign(new Error('timed out'), { name: 'TimeoutError' }));
    ghl.record('/workflows', 0.1, 503);
    const { body } = await metrics.scrape();
    expect(num(body, 'ghl_api_requests_total{endpoint="/contacts/:id",status_code="200"}')).toBe(1);
    expect(num(body, 'ghl_api_requests_total{endpoint="/contacts/:id",status_code="429"}')).toBe(1);
    expect(num(body, 'ghl_api_errors_total{endpoint="/contacts/:id",error_type="rate_limited"}')).toBe(1);
    expect(num(body, 'ghl_api_errors_total{endpoint="/workflows",error_type="timeout"}')).toBe(1);
    expect(num(body, 'ghl_api_errors_total{endpoint="/workflows",error_type="server_error"}')).toBe(1);
    expect(num(body, 'ghl_api_duration_seconds_count{endpoint="/contacts/:id"}')).toBe(2);
    expect(body).not.toMatch(/@|ve9EPM|email=/);
  });

  it('external API: time() passes results and errors through and records both', async () => {
    const metrics = createMetrics({ runtime: false });
    const api = createExternalApiMetrics(metrics, { name: 'stripe', maxEndpoints: 1 });
    expect(await api.time('/v1/customers', async () => 'ok')).toBe('ok');
    await expect(
      api.time('/v1/charges', async () => Promise.reject(Object.assign(new Error('x'), { status: 500 }))),
    ).rejects.toThrow('x');
    const { body } = await metrics.scrape();
    expect(num(body, 'stripe_api_requests_total{endpoint="/v1/customers",status_code="200"}')).toBe(1);
    expect(num(body, 'stripe_api_errors_total{endpoint="__overflow__",error_type="server_error"}')).toBe(1);
  });

  it('rejects bad options with coded errors', () => {
    const metrics = createMetrics({ runtime: false });
    expect(() => createExternalApiMetrics(metrics, { name: 'GHL API' })).toThrow(
      expect.objectContaining({ code: 'METRICS_INVALID_OPTIONS' }),
    );
    expect(() => instrumentPool(metrics, {} as never)).toThrow(
      expect.objectContaining({ code: 'METRICS_INVALID_OPTIONS' }),
    );
  });

  it('sanitizePath and sqlOperation keep labels bounded', () => {
    expect(sanitizePath('https://h.example/a/123/b/550e8400-e29b-41d4-a716-446655440000?x=1#f')).toBe('/a/:id/b/:id');
    expect(sanitizePath('/users/jane@example.com/')).toBe('/users/:id');
    expect(sanitizePath('/locations/search')).toBe('/locations/search');
    expect(sqlOperation('  /* c */ -- x\n select 1')).toBe('select');
    expect(sqlOperation("SELECT * FROM users WHERE email='a@b'")).toBe('select');
    expect(sqlOperation('MERGE INTO x')).toBe('other');
  });
});
