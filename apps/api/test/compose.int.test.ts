// The composition root (src/compose.ts) without the process around it: what each role builds, in which order it is
// closed, and that composing neither listens nor migrates. Real PostgreSQL; no Redis (the in-process queue, so the
// `all` role: a separate `api` role needs Redis).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sharedPostgres, type SharedPostgres } from '@org/test-services';
import { compose, type Composition } from '../src/compose.js';
import { loadConfig } from '../src/config/config.js';
import { migrate } from '../src/db/migrations.js';

describe('compose(config, overrides)', () => {
  let pg: SharedPostgres;
  beforeAll(async () => {
    pg = await sharedPostgres('api_compose');
    await migrate({ url: pg.url });
  });
  afterAll(async () => {
    await pg?.cleanup();
  });

  const config = () =>
    loadConfig({ NODE_ENV: 'test', DATABASE_URL: pg.url, LOG_LEVEL: 'silent', PORT: '3999', WORKER_PORT: '3998' });

  async function get(composition: Composition, path: string): Promise<{ status: number; body: unknown }> {
    const server: Server = createServer(composition.listener);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}${path}`);
      return { status: res.status, body: await res.json() };
    } finally {
      await new Promise((r) => server.close(r));
    }
  }

  async function closeAll(composition: Composition) {
    for (const step of composition.closers) await step.close();
  }

  it('the all role (API and jobs in one process): the API on PORT, /ready 503 until the caller marks it ready, closers in shutdown order', async () => {
    const composition = await compose(config(), { role: 'all' });
    try {
      expect(composition.role).toBe('all');
      expect(composition.port).toBe(3999);
      expect(composition.databaseUrl).toBe(pg.url);
      expect(composition.closers.map((c) => c.what)).toEqual([
        'the GHL module',
        'the analysis pool',
        'the retention job',
        'the session sweep',
        'the GHL rate limiter connection',
        'the libraries',
        'the database pool',
        'the embedded database',
        'the data folder lock',
        'the error reporter',
      ]);
      expect((await get(composition, '/ready')).status).toBe(503);
      await composition.afterMigrate();
      composition.lifecycle.markReady();
      expect((await get(composition, '/ready')).status).toBe(200);
      expect((await get(composition, '/api/nothing-here')).body).toMatchObject({
        success: false,
        error: { code: 'NOT_FOUND' },
      });
    } finally {
      await closeAll(composition);
    }
  });

  it('the worker role: probes on WORKER_PORT, no API routes, the same closers without the API-only jobs', async () => {
    const composition = await compose(config(), { role: 'worker' });
    try {
      expect(composition.port).toBe(3998);
      expect(composition.closers.map((c) => c.what)).not.toContain('the session sweep');
      expect(composition.closers[0]!.what).toBe('the GHL module');
      expect(await get(composition, '/live')).toEqual({ status: 200, body: { status: 'alive', role: 'worker' } });
      expect((await get(composition, '/api/workflows')).status).toBe(404);
    } finally {
      await closeAll(composition);
    }
  });
});
