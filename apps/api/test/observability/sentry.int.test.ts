import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { hasSharedPostgres, sharedPostgres, waitFor, type SharedPostgres } from '@org/test-services';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnApp, waitReady } from '../support/child.js';
import { TEST_SECRETS } from '../support/app.js';

const pgUp = await hasSharedPostgres();

describe.skipIf(!pgUp)('Sentry (child process, local fake ingest)', () => {
  let pg: SharedPostgres;
  let ingest: Server;
  const envelopes: string[] = [];
  beforeAll(async () => {
    pg = await sharedPostgres('api_sentry');
    // Stands in for sentry.io: records every envelope the SDK sends (no network here).
    ingest = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        envelopes.push((req.headers['content-encoding'] === 'gzip' ? gunzipSync(body) : body).toString());
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((r) => ingest.listen(0, '127.0.0.1', r));
  });
  afterAll(async () => {
    await new Promise((r) => ingest?.close(r));
    await pg?.cleanup();
  });

  it('reports a 500 with its request id when SENTRY_DSN is set, without cookies or credentials', async () => {
    const port = (ingest.address() as AddressInfo).port;
    const app = await spawnApp('test/support/main-with-test-routes.ts', {
      DATABASE_URL: pg.url,
      SENTRY_DSN: `http://abc123public@127.0.0.1:${port}/42`,
      SESSION_SECRET: TEST_SECRETS.sessionSecret,
      INTERNAL_TOKEN: TEST_SECRETS.internalToken,
    });
    try {
      await waitReady(app);
      const res = await fetch(`${app.base}/api/test/throw`, {
        headers: {
          cookie: `session=${TEST_SECRETS.sessionSecret}`,
          authorization: `Bearer ${TEST_SECRETS.internalToken}`,
          'x-request-id': 'sentry-req-1',
        },
      });
      expect(res.status).toBe(500);
      await waitFor(
        'an envelope with the error',
        async () => envelopes.some((e) => e.includes('sentry-visible failure')),
        10_000,
      );
      const event = envelopes.find((e) => e.includes('sentry-visible failure'))!;
      expect(event).toContain('sentry-req-1');
      expect(event).not.toContain(TEST_SECRETS.sessionSecret);
      expect(event).not.toContain(TEST_SECRETS.internalToken);
    } finally {
      app.child.kill('SIGTERM');
      expect((await app.exited).code).toBe(0);
    }
  }, 90_000);
});
