// The access log (src/http/request-context.ts): one line per request with what operators need (method, path, status,
// duration, request id) and no credential: not the Authorization header, not the API key, not the session cookie, not
// a query-string secret. Over HTTP against the real app (createApp), reading what the logger wrote.
import { hasSharedPostgres, sharedPostgres, type SharedPostgres } from '@org/test-services';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKeyStore } from '../../src/auth/api-keys.js';
import { createSessionStore } from '../../src/auth/sessions.js';
import { migrate } from '../../src/db/migrations.js';
import { seedTenant, startApp, TEST_SECRETS, type App } from '../support/app.js';

const pgUp = await hasSharedPostgres();

describe.skipIf(!pgUp)('access log', () => {
  let pg: SharedPostgres;
  let app: App;
  let key: string;
  let cookieValue: string;

  beforeAll(async () => {
    pg = await sharedPostgres('api_access_log');
    await migrate({ url: pg.url });
    app = await startApp({
      url: pg.url,
      extraApiRoutes(router) {
        // Answers after the test's client has given up.
        router.get('/test/slow', (_req, res) => void setTimeout(() => res.json({ late: true }), 1_000));
      },
    });
    const tenant = await seedTenant(app.db, 'loc-access-log');
    key = (await createApiKeyStore(app.db, TEST_SECRETS.sessionSecret).create({ ...tenant, name: 'logged' })).key;
    cookieValue = await createSessionStore(app.db, TEST_SECRETS.sessionSecret).create(
      tenant.accountId,
      tenant.locationId,
      60_000,
    );
  }, 60_000);
  afterAll(async () => {
    await app?.close();
    await pg?.cleanup();
  });

  const lines = () => app.logs.lines.map((l) => JSON.parse(l) as Record<string, unknown>);

  it('logs method, path, status, duration and request id, and no header, cookie, key or query secret', async () => {
    const requests = [
      fetch(`${app.base}/api/me?access_token=query-secret-1`, {
        headers: { authorization: `Bearer ${key}`, 'x-request-id': 'req-key-1' },
      }),
      fetch(`${app.base}/api/me`, {
        headers: { cookie: `session=${encodeURIComponent(cookieValue)}`, 'x-request-id': 'req-session-1' },
      }),
      fetch(`${app.base}/api/me`, {
        headers: { authorization: 'Bearer ak_forged_not-a-key', 'x-request-id': 'req-forged-1' },
      }),
    ];
    const statuses = await Promise.all(requests.map(async (r) => (await r).status));
    expect(statuses).toEqual([200, 200, 401]);
    // The line is written when the response has been sent; give the logger a moment.
    await new Promise((r) => setTimeout(r, 100));

    const byId = new Map(
      lines()
        .filter((l) => (l.req as { id?: string } | undefined)?.id)
        .map((l) => [(l.req as { id: string }).id, l]),
    );
    expect(byId.get('req-key-1')).toMatchObject({
      level: 30,
      msg: 'request completed',
      req: { id: 'req-key-1', method: 'GET', url: '/api/me?[REDACTED]' },
      res: { statusCode: 200 },
    });
    expect(byId.get('req-session-1')).toMatchObject({ req: { url: '/api/me' }, res: { statusCode: 200 } });
    expect(byId.get('req-forged-1')).toMatchObject({ level: 40, res: { statusCode: 401 } });
    for (const id of ['req-key-1', 'req-session-1', 'req-forged-1']) {
      const line = byId.get(id)!;
      expect(typeof line.responseTime).toBe('number');
      expect(Object.keys(line.req as object).sort()).toEqual(['id', 'method', 'url']);
      for (const word of ['Bearer', 'authorization', 'cookie', 'headers'])
        expect(JSON.stringify(line), word).not.toContain(word);
    }

    const text = app.logs.text();
    // `ak_<8-character prefix>_<43-character secret>_<tag>`: the secret is cut by position (it may contain '_').
    for (const secret of [
      key,
      key.slice(12, 55),
      cookieValue,
      cookieValue.split('.')[0]!,
      encodeURIComponent(cookieValue),
      'query-secret-1',
      'ak_forged_not-a-key',
    ]) {
      expect(text, secret).not.toContain(secret);
    }
  });

  it('logs a request the client abandoned as aborted, at error level, once', async () => {
    const controller = new AbortController();
    const pending = fetch(`${app.base}/api/test/slow`, {
      headers: { 'x-request-id': 'req-abandoned-1' },
      signal: controller.signal,
    }).catch(() => 'aborted');
    await new Promise((r) => setTimeout(r, 200));
    controller.abort();
    expect(await pending).toBe('aborted');
    await new Promise((r) => setTimeout(r, 1_300));
    const mine = lines().filter((l) => (l.req as { id?: string } | undefined)?.id === 'req-abandoned-1');
    expect(mine).toHaveLength(1);
    expect(mine[0]).toMatchObject({ level: 50, msg: 'request aborted', req: { method: 'GET', url: '/api/test/slow' } });
  });
});
