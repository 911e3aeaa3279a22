import { connect } from 'node:net';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  canStartPostgres,
  canStartRedis,
  startPostgres,
  startRedis,
  waitFor,
  type PrivatePostgres,
  type PrivateRedis,
} from '@org/test-services';
import { createDependencyHealth, createMetrics, instrumentPool, type Metrics } from '../src/index.js';

const canRun = canStartRedis() && canStartPostgres();

/** A raw RESP PING, so the test needs no Redis client library. */
function redisPing(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    socket.setTimeout(300, () => socket.destroy(new Error('timeout')));
    socket.once('error', reject);
    socket.once('connect', () => socket.write('*1\r\n$4\r\nPING\r\n'));
    socket.once('data', (d) => {
      socket.destroy();
      if (d.toString().startsWith('+PONG')) resolve();
      else reject(new Error(d.toString()));
    });
  });
}

describe.skipIf(!canRun)('dependency_up and DB error counters follow real Redis and PostgreSQL outages', () => {
  let redis: PrivateRedis;
  let postgres: PrivatePostgres;
  let pool: pg.Pool;
  let metrics: Metrics;
  const value = async (prefix: string) => {
    const line = (await metrics.scrape()).body.split('\n').find((l) => l.startsWith(prefix));
    return line === undefined ? undefined : Number(line.split(' ').pop());
  };

  beforeAll(async () => {
    [redis, postgres] = await Promise.all([startRedis(), startPostgres()]);
    pool = new pg.Pool({ connectionString: postgres.url, max: 2, connectionTimeoutMillis: 300 });
    // Idle clients die with the server; without a listener pg would crash the process.
    pool.on('error', () => undefined);
    metrics = createMetrics({ runtime: false });
    instrumentPool(metrics, pool);
    createDependencyHealth(metrics, {
      timeoutMs: 500,
      checks: { postgres: () => pool.query('SELECT 1'), redis: () => redisPing(redis.port) },
    });
  }, 60_000);

  afterAll(async () => {
    await pool?.end().catch(() => undefined);
    metrics?.close();
    await Promise.all([redis?.stop(), postgres?.destroy()]);
  });

  it('reads 1, then 0 within 2 s of each kill, then 1 again after recovery', async () => {
    expect(await value('dependency_up{dependency="postgres"}')).toBe(1);
    expect(await value('dependency_up{dependency="redis"}')).toBe(1);

    await redis.kill();
    expect(await redis.ping(300)).toBe(false);
    let started = Date.now();
    expect(await value('dependency_up{dependency="redis"}')).toBe(0);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(await value('dependency_up{dependency="postgres"}')).toBe(1);

    await postgres.kill();
    expect(await postgres.ping(300)).toBe(false);
    started = Date.now();
    expect(await value('dependency_up{dependency="postgres"}')).toBe(0);
    expect(Date.now() - started).toBeLessThan(2_000);
    const errorsBody = (await metrics.scrape()).body;
    expect(errorsBody).toMatch(
      /^database_query_errors_total\{pool="default",operation="(connect|select)",code="[^"]+"\} [1-9]/m,
    );

    await Promise.all([redis.restart(), postgres.start()]);
    await waitFor(
      'dependency_up back to 1',
      async () =>
        (await value('dependency_up{dependency="postgres"}')) === 1 &&
        (await value('dependency_up{dependency="redis"}')) === 1,
      10_000,
      100,
    );
  }, 60_000);
});
