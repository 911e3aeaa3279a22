import { readdirSync } from 'node:fs';
import type { Router } from 'express';
import { connect } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { request } from 'node:http';
import { hasSharedPostgres, sharedPostgres, type SharedPostgres } from '@org/test-services';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKeyStore } from '../../src/auth/api-keys.js';
import { createSessionStore, sessionCookie, setSessionCookie } from '../../src/auth/sessions.js';
import { sign } from '../../src/auth/tokens.js';
import { MIGRATIONS_DIR, migrate } from '../../src/db/migrations.js';
import { TEST_SECRETS, seedTenant, startApp, type App } from '../support/app.js';

const pgUp = await hasSharedPostgres();

/** GET/POST returning status, headers and the raw (undecoded) body bytes, so compression can be checked. */
function raw(url: string, options: { method?: string; headers?: Record<string, string>; body?: string | Buffer } = {}) {
  return new Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }>(
    (resolve, reject) => {
      const req = request(url, { method: options.method ?? 'GET', headers: options.headers, agent: false }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
      });
      req.on('error', reject);
      req.end(options.body);
    },
  );
}

function expectCleanError(
  body: Buffer,
  status: number,
  code: string,
  res: { status: number; headers: Record<string, unknown> },
) {
  expect(res.status).toBe(status);
  expect(String(res.headers['content-type'])).toMatch(/^application\/json/);
  const text = body.toString();
  expect(text).not.toMatch(/<html|<pre|<!DOCTYPE/i);
  expect(text).not.toMatch(/\bat \S+ \(|node_modules|\/src\/|\.ts:\d+|SyntaxError|Error:/);
  const json = JSON.parse(text);
  expect(json).toEqual({ success: false, error: { code, message: expect.any(String), requestId: expect.any(String) } });
  expect(json.error.requestId).toBe(res.headers['x-request-id']);
}

const large = { items: Array.from({ length: 200 }, (_, i) => ({ id: i, name: `workflow number ${i}` })) };

describe.skipIf(!pgUp)('HTTP pipeline (shared PostgreSQL)', () => {
  let pg: SharedPostgres;
  const apps: App[] = [];
  beforeAll(async () => {
    pg = await sharedPostgres('api_http');
    await migrate({ url: pg.url });
  });
  afterAll(async () => {
    for (const app of apps) await app.close();
    // Secrets never reach the logs, whatever the tests sent (cookies, tokens, keys in headers and query strings).
    const all = apps.map((a) => a.logs.text()).join('\n');
    expect(all.length).toBeGreaterThan(0);
    for (const secret of [...Object.values(TEST_SECRETS), ...leakedCandidates]) expect(all).not.toContain(secret);
    await pg?.cleanup();
  });
  const leakedCandidates: string[] = [];

  for (const nodeEnv of ['unset', 'production'] as const) {
    describe(`NODE_ENV ${nodeEnv}`, () => {
      let app: App;
      beforeAll(async () => {
        app = await startApp({
          url: pg.url,
          isProduction: nodeEnv === 'production',
          extraApiRoutes(router) {
            router.get('/test/throw', () => {
              throw new Error(`boom at ${import.meta.url}`);
            });
            router.get('/test/reject', async () => {
              await Promise.resolve();
              throw new TypeError('rejected inside /work/secret/path.ts:12');
            });
            router.get('/test/large', (_req, res) => {
              res.json(large);
            });
            router.get('/test/small', (_req, res) => {
              res.json({ ok: true });
            });
            router.post('/test/echo', (req, res) => {
              res.json({ received: req.body });
            });
          },
        });
        apps.push(app);
      });

      it('answers malformed JSON with 400 INVALID_JSON', async () => {
        const res = await raw(`${app.base}/api/test/echo`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: '{"a":',
        });
        expectCleanError(res.body, 400, 'INVALID_JSON', res);
      });

      it('answers a throwing handler with 500 INTERNAL_ERROR and logs the error once with the request id', async () => {
        const res = await raw(`${app.base}/api/test/throw`, { headers: { 'x-request-id': 'req-throw-1' } });
        expectCleanError(res.body, 500, 'INTERNAL_ERROR', res);
        expect(res.headers['x-request-id']).toBe('req-throw-1');
        const logged = app.logs.lines.filter((l) => l.includes('req-throw-1') && l.includes('request failed'));
        expect(logged).toHaveLength(1);
      });

      it('answers a rejecting async handler with 500 INTERNAL_ERROR', async () => {
        const res = await raw(`${app.base}/api/test/reject`);
        expectCleanError(res.body, 500, 'INTERNAL_ERROR', res);
      });

      it('answers an unknown route with 404 NOT_FOUND', async () => {
        const res = await raw(`${app.base}/no/such/route`);
        expectCleanError(res.body, 404, 'NOT_FOUND', res);
      });

      it('answers a 101 KB body with 413 PAYLOAD_TOO_LARGE', async () => {
        const body = JSON.stringify({ blob: 'x'.repeat(101 * 1024) });
        const res = await raw(`${app.base}/api/test/echo`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body,
        });
        expectCleanError(res.body, 413, 'PAYLOAD_TOO_LARGE', res);
      });

      it('answers a 50 MB chunked body (no Content-Length) with 413', async () => {
        const { status, sentBytes } = await new Promise<{ status: number; sentBytes: number }>((resolve, reject) => {
          let sentBytes = 0;
          let done = false;
          const req = request(
            `${app.base}/api/test/echo`,
            { method: 'POST', headers: { 'content-type': 'application/json' }, agent: false },
            (res) => {
              done = true;
              res.resume();
              resolve({ status: res.statusCode!, sentBytes });
              req.destroy();
            },
          );
          req.on('error', (error) => (done ? undefined : reject(error)));
          const chunk = Buffer.alloc(64 * 1024, 0x20);
          req.write('{"blob":"');
          const pump = () => {
            while (!done && sentBytes < 50 * 1024 * 1024) {
              sentBytes += chunk.length;
              if (!req.write(chunk)) {
                req.once('drain', pump);
                return;
              }
            }
            if (!done) req.end('"}');
          };
          pump();
        });
        expect(status).toBe(413);
        expect(sentBytes).toBeGreaterThan(1024 * 1024);
      });

      it('accepts a body just under the limit', async () => {
        const body = JSON.stringify({ blob: 'x'.repeat(99 * 1024) });
        const res = await raw(`${app.base}/api/test/echo`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body,
        });
        expect(res.status).toBe(200);
      });

      it('sends helmet headers, no X-Powered-By, and generates a request id when none is given', async () => {
        const res = await raw(`${app.base}/health`);
        expect(res.status).toBe(200);
        expect(res.headers['x-powered-by']).toBeUndefined();
        expect(res.headers['x-content-type-options']).toBe('nosniff');
        expect(res.headers['strict-transport-security']).toBeDefined();
        expect(res.headers['content-security-policy']).toBeDefined();
        expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
      });

      it('replaces a request id that does not look like one', async () => {
        const res = await raw(`${app.base}/health`, { headers: { 'x-request-id': 'evil\tvalue with spaces' } });
        expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
      });

      it('allows CORS with credentials for FRONTEND_URL only', async () => {
        const ok = await raw(`${app.base}/health`, { headers: { origin: 'https://app.example.test' } });
        expect(ok.headers['access-control-allow-origin']).toBe('https://app.example.test');
        expect(ok.headers['access-control-allow-credentials']).toBe('true');
        const other = await raw(`${app.base}/health`, { headers: { origin: 'https://evil.example' } });
        expect(other.headers['access-control-allow-origin']).not.toBe('https://evil.example');
      });

      it('gzips a response over 1 KB, and the decoded body equals the plain one', async () => {
        const zipped = await raw(`${app.base}/api/test/large`, { headers: { 'accept-encoding': 'gzip' } });
        expect(zipped.headers['content-encoding']).toBe('gzip');
        const plain = await raw(`${app.base}/api/test/large`, {
          headers: { 'accept-encoding': 'gzip', 'x-no-compression': '1' },
        });
        expect(plain.headers['content-encoding']).toBeUndefined();
        expect(plain.body.length).toBeGreaterThan(1024);
        expect(gunzipSync(zipped.body).equals(plain.body)).toBe(true);
        expect(JSON.parse(plain.body.toString())).toEqual(large);
      });

      it('does not gzip a response under the 1 KB threshold', async () => {
        const res = await raw(`${app.base}/api/test/small`, { headers: { 'accept-encoding': 'gzip' } });
        expect(res.headers['content-encoding']).toBeUndefined();
        expect(JSON.parse(res.body.toString())).toEqual({ ok: true });
      });
    });
  }

  describe('authentication', () => {
    let app: App;
    let cookieName: string;
    let cookieValue: string;
    let apiKey: string;
    beforeAll(async () => {
      app = await startApp({
        url: pg.url,
        isProduction: true,
        extraApiRoutes(router) {
          // Stands in for the OAuth callback that will issue sessions: sets the real cookie.
          router.post('/test/login', async (_req, res) => {
            const value = await createSessionStore(app.db, TEST_SECRETS.sessionSecret).create(
              tenantA.accountId,
              tenantA.locationId,
              60_000,
            );
            setSessionCookie(res, sessionCookie(true), value);
            res.json({ ok: true });
          });
        },
      });
      apps.push(app);
      tenantA = await seedTenant(app.db, 'loc-a');
      tenantB = await seedTenant(app.db, 'loc-b');
      await app.db.query(
        "INSERT INTO analysis_results (location_id, workflow_id, workflow_version, health_score, issues_found, tier) VALUES ('loc-a', 'wf-1', 1, 80, 2, 'pro'), ('loc-b', 'wf-1', 1, 10, 9, 'free')",
      );
      const login = await raw(`${app.base}/api/test/login`, { method: 'POST' });
      const setCookie = String((login.headers['set-cookie'] as string[])[0]);
      expect(setCookie).toMatch(/^__Host-session=/);
      expect(setCookie).toMatch(/; HttpOnly/);
      expect(setCookie).toMatch(/; Secure/);
      expect(setCookie).toMatch(/; SameSite=Lax/);
      expect(setCookie).toMatch(/; Path=\//);
      expect(setCookie).not.toMatch(/Domain=/i);
      [cookieName, cookieValue] = setCookie.split(';')[0]!.split('=') as [string, string];
      leakedCandidates.push(decodeURIComponent(cookieValue));
      apiKey = (
        await createApiKeyStore(app.db, TEST_SECRETS.sessionSecret).create({
          accountId: tenantB.accountId,
          locationId: tenantB.locationId,
          name: 'svc',
        })
      ).key;
      leakedCandidates.push(apiKey);
    });
    let tenantA: { accountId: string; locationId: string };
    let tenantB: { accountId: string; locationId: string };

    it('refuses API routes without credentials, with a garbage cookie, a tampered cookie or an unknown key', async () => {
      const tampered = decodeURIComponent(cookieValue).replace(/^./, (c) => (c === 'A' ? 'B' : 'A'));
      for (const headers of <Record<string, string>[]>[
        {},
        { cookie: `${cookieName}=garbage` },
        { cookie: `${cookieName}=${encodeURIComponent(tampered)}` },
        { authorization: `Bearer ak_abcdefgh_${'x'.repeat(43)}` },
        { authorization: 'Bearer not-a-key' },
      ]) {
        const res = await raw(`${app.base}/api/me`, { headers });
        expectCleanError(res.body, 401, 'UNAUTHORIZED', res);
      }
    });

    it('accepts the session cookie at /api and /v1/api and scopes data to its location', async () => {
      for (const prefix of ['/api', '/v1/api']) {
        const me = await raw(`${app.base}${prefix}/me`, { headers: { cookie: `${cookieName}=${cookieValue}` } });
        expect(me.status).toBe(200);
        expect(JSON.parse(me.body.toString()).data).toEqual({
          accountId: tenantA.accountId,
          locationId: 'loc-a',
          authenticatedBy: 'session',
        });
      }
      const own = await raw(`${app.base}/api/locations/loc-a/analyses?token=${TEST_SECRETS.internalToken}`, {
        headers: { cookie: `${cookieName}=${cookieValue}` },
      });
      expect(own.status).toBe(200);
      expect(JSON.parse(own.body.toString()).data).toHaveLength(1);
      const other = await raw(`${app.base}/api/locations/loc-b/analyses`, {
        headers: { cookie: `${cookieName}=${cookieValue}` },
      });
      expectCleanError(other.body, 404, 'NOT_FOUND', other);
    });

    it('answers an invalid query parameter with 400 VALIDATION_ERROR and the issues', async () => {
      const res = await raw(`${app.base}/api/locations/loc-a/analyses?limit=1000`, {
        headers: { cookie: `${cookieName}=${cookieValue}` },
      });
      expect(res.status).toBe(400);
      const body = JSON.parse(res.body.toString());
      expect(body.success).toBe(false);
      expect(body.error).toMatchObject({
        code: 'VALIDATION_ERROR',
        requestId: res.headers['x-request-id'],
        issues: [{ path: ['limit'] }],
      });
    });

    it('refuses an expired session', async () => {
      const value = await createSessionStore(app.db, TEST_SECRETS.sessionSecret).create(
        tenantA.accountId,
        'loc-a',
        60_000,
      );
      await app.db.query("UPDATE sessions SET expires_at = now() - interval '1 second'");
      const res = await raw(`${app.base}/api/me`, {
        headers: { cookie: `${cookieName}=${encodeURIComponent(value)}` },
      });
      expect(res.status).toBe(401);
    });

    it('accepts a hashed API key as a Bearer token and stores no plaintext', async () => {
      const res = await raw(`${app.base}/api/locations/loc-b/workflows/wf-1/analysis`, {
        headers: { authorization: `Bearer ${apiKey}` },
      });
      expect(res.status).toBe(200);
      expect(JSON.parse(res.body.toString()).data).toMatchObject({
        locationId: 'loc-b',
        workflowId: 'wf-1',
        healthScore: 10,
      });
      const stored = await app.db.query("SELECT encode(key_hash, 'hex') AS h, prefix FROM api_keys");
      // ak_<8-char prefix>_<43-char secret>_<tag>: the secret itself may contain '_', so it is cut by position.
      const secret = apiKey.slice('ak_'.length + 9, 'ak_'.length + 9 + 43);
      expect(secret).toHaveLength(43);
      expect(JSON.stringify(stored.rows)).not.toContain(secret);
      const sub = await raw(`${app.base}/api/locations/loc-b/subscription`, {
        headers: { authorization: `Bearer ${apiKey}` },
      });
      expect(JSON.parse(sub.body.toString()).data).toEqual({ tier: 'free', currentPeriodEnd: null });
    });

    it('a signature made with another secret is refused', async () => {
      const forged = sign('some-session-token', 'another-secret-of-sufficient-length!!');
      const res = await raw(`${app.base}/api/me`, {
        headers: { cookie: `${cookieName}=${encodeURIComponent(forged)}` },
      });
      expect(res.status).toBe(401);
    });

    it('hides /health/detailed and /internal/* without the internal token', async () => {
      for (const headers of <Record<string, string>[]>[
        {},
        { authorization: 'Bearer wrong-token' },
        { 'x-internal-token': 'wrong' },
      ]) {
        const res = await raw(`${app.base}/health/detailed`, { headers });
        expectCleanError(res.body, 404, 'NOT_FOUND', res);
        const internal = await raw(`${app.base}/internal/anything`, { headers });
        expect(internal.status).toBe(404);
      }
      const ok = await raw(`${app.base}/health/detailed`, {
        headers: { authorization: `Bearer ${TEST_SECRETS.internalToken}` },
      });
      expect(ok.status).toBe(200);
      const detail = JSON.parse(ok.body.toString());
      expect(detail.database.status).toBe('up');
      expect(detail.database.migrations.pending).toEqual([]);
      // Every migration file in the folder (later issues add their own), all applied.
      expect(detail.database.migrations.applied).toHaveLength(
        readdirSync(MIGRATIONS_DIR).filter((f) => f.endsWith('.sql')).length,
      );
      expect(JSON.stringify(detail)).not.toContain(pg.url);
    });
  });

  it('trusts exactly the configured number of proxy hops for req.ip', async () => {
    const route = (router: Router) => router.get('/test/ip', (req, res) => void res.json({ ip: req.ip }));
    const direct = await startApp({ url: pg.url, extraApiRoutes: route });
    const behindOne = await startApp({ url: pg.url, trustProxyHops: 1, extraApiRoutes: route });
    apps.push(direct, behindOne);
    const ipOf = async (base: string) =>
      JSON.parse(
        (await raw(`${base}/api/test/ip`, { headers: { 'x-forwarded-for': '6.6.6.6, 203.0.113.7' } })).body.toString(),
      ).ip;
    // Direct clients cannot pick their IP with X-Forwarded-For...
    expect(await ipOf(direct.base)).toMatch(/127\.0\.0\.1$/);
    // ...and behind one proxy, the address that proxy saw (the right-most entry) is used, not the spoofed one.
    expect(await ipOf(behindOne.base)).toBe('203.0.113.7');
  });

  it('drops a client that trickles its headers once headersTimeout passes', async () => {
    const app = await startApp({ url: pg.url, headersTimeoutMs: 1_000 });
    apps.push(app);
    const port = Number(new URL(app.base).port);
    const socket = connect(port, '127.0.0.1');
    const started = Date.now();
    const closed = new Promise<{ ms: number; data: string }>((resolve) => {
      let data = '';
      socket.on('data', (d) => (data += d.toString()));
      socket.on('close', () => resolve({ ms: Date.now() - started, data }));
      socket.on('error', () => {});
    });
    socket.write('GET /health HTTP/1.1\r\nHost: x\r\n');
    const trickle = setInterval(() => socket.writable && socket.write('X-Slow: 1\r\n'), 200);
    const { ms, data } = await closed;
    clearInterval(trickle);
    expect(data).toMatch(/^HTTP\/1\.1 408/);
    // headersTimeout 1 s, checked every second: dropped between 1 and ~2 s (+ margin for a loaded machine), never 30 s.
    expect(ms).toBeGreaterThanOrEqual(900);
    expect(ms).toBeLessThan(4_000);
  });
});
