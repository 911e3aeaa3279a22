import { canStartPostgres, startPostgres, waitFor, type PrivatePostgres } from '@org/test-services';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { QueryEvent } from '../../src/db/database.js';
import { migrate } from '../../src/db/migrations.js';
import { startApp, type App } from '../support/app.js';

const canStart = canStartPostgres();

async function get(
  url: string,
): Promise<{ status: number; ms: number; body: { error?: { code: string } }; retryAfter: string | null }> {
  const started = performance.now();
  const res = await fetch(url);
  const body = (await res.json()) as { error?: { code: string } };
  return { status: res.status, ms: performance.now() - started, body, retryAfter: res.headers.get('retry-after') };
}

describe.skipIf(!canStart)('database faults (private PostgreSQL)', () => {
  let pg: PrivatePostgres;
  let app: App;
  const events: QueryEvent[] = [];
  beforeAll(async () => {
    pg = await startPostgres();
    await migrate({ url: pg.url });
    app = await startApp({
      url: pg.url,
      db: { max: 4, statementTimeoutMs: 500, connectionTimeoutMs: 1_000, onQuery: (e) => events.push(e) },
      extraApiRoutes(router) {
        router.get('/test/db', async (_req, res) => {
          const { rows } = await app.db.read<{ n: number }>('SELECT count(*)::int AS n FROM accounts');
          res.json({ n: rows[0]!.n });
        });
        router.get('/test/sleep', async (req, res) => {
          await app.db.query('SELECT pg_sleep($1)', [Number(req.query.s ?? 3)]);
          res.json({ slept: true });
        });
      },
    });
  });
  afterAll(async () => {
    await app?.close();
    await pg?.destroy();
  });

  it('survives pg_terminate_backend on its idle connections; the next request succeeds', async () => {
    await Promise.all(Array.from({ length: 4 }, () => get(`${app.base}/api/test/db`)));
    expect(app.db.stats().idle).toBeGreaterThan(0);
    const killed = await pg.terminateBackends();
    expect(killed).toBeGreaterThan(0);
    await waitFor('the pool to notice', async () => app.logs.text().includes('idle database connection lost'), 5_000);
    const next = await get(`${app.base}/api/test/db`);
    expect(next.status).toBe(200);
  });

  it('maps statement_timeout (pg_sleep past it) to 503 DATABASE_TIMEOUT in time', async () => {
    const res = await get(`${app.base}/api/test/sleep?s=3`);
    expect(res.status).toBe(503);
    expect(res.body.error?.code).toBe('DATABASE_TIMEOUT');
    expect(res.retryAfter).toBe('1');
    // statement_timeout is 500 ms; the sleep asked for 3 s.
    expect(res.ms).toBeLessThan(1_500);
    // The query hook (where @org/metrics attaches) saw the timeout with its duration.
    const timeout = events.find((e) => e.outcome === 'DATABASE_TIMEOUT');
    expect(timeout?.durationMs).toBeGreaterThanOrEqual(400);
  });

  it('answers 503 with Retry-After (never 500) while PostgreSQL is stopped, /ready turns 503 within 1 s, and recovers within 2 s', async () => {
    await pg.stop();
    expect(await pg.ping(300)).toBe(false);
    const ready = await get(`${app.base}/ready`);
    expect(ready.status).toBe(503);
    expect(ready.ms).toBeLessThan(1_000);
    const statuses: number[] = [];
    for (let i = 0; i < 10; i++) {
      const res = await get(`${app.base}/api/test/db`);
      statuses.push(res.status);
      expect(res.status).toBe(503);
      expect(res.retryAfter).toBe('1');
      expect(res.body.error?.code).toBe('DATABASE_UNAVAILABLE');
    }
    expect(statuses).not.toContain(500);
    expect((await get(`${app.base}/live`)).status).toBe(200);

    await pg.start();
    const back = performance.now();
    await waitFor(
      'the app to serve again',
      async () => (await get(`${app.base}/api/test/db`)).status === 200,
      2_000,
      25,
    );
    await waitFor('/ready to say 200', async () => (await get(`${app.base}/ready`)).status === 200, 2_000, 25);
    expect(performance.now() - back).toBeLessThan(2_000);
  });

  it('sheds load when the pool is exhausted: fast 503 DATABASE_BUSY beyond a bounded queue', async () => {
    const small = await startApp({
      url: pg.url,
      db: { max: 2, maxWaiting: 2, connectionTimeoutMs: 3_000, statementTimeoutMs: 5_000 },
      extraApiRoutes(router) {
        router.get('/test/hold', async (_req, res) => {
          await small.db.query('SELECT pg_sleep(1)');
          res.json({ ok: true });
        });
      },
    });
    try {
      const results = await Promise.all(Array.from({ length: 10 }, () => get(`${small.base}/api/test/hold`)));
      const busy = results.filter((r) => r.status === 503 && r.body.error?.code === 'DATABASE_BUSY');
      const ok = results.filter((r) => r.status === 200);
      // 2 run, 2 wait for a connection, 6 are refused at once instead of queueing without bound.
      expect(ok).toHaveLength(4);
      expect(busy).toHaveLength(6);
      for (const r of busy) {
        expect(r.retryAfter).toBe('1');
        expect(r.ms).toBeLessThan(500);
      }
      expect(small.db.stats().total).toBeLessThanOrEqual(2);
    } finally {
      await small.close();
    }
  });
});
