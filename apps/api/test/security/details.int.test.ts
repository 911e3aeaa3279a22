// The small holes: an analysis by id honours the tier's retention, malformed versions and ids are 400 (not 500), the
// token-guarded endpoints are rate limited, and in production the OAuth state cookie is `__Host-` and /metrics
// scrapes are coalesced. Over HTTP against src/main.ts.
import { hasSharedPostgres } from '@org/test-services';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_LOCATION, DEMO_WORKFLOW, startSecurityApp, type SecurityApp } from '../support/security-app.js';
import { TEST_SECRETS } from '../support/app.js';

const pgUp = await hasSharedPostgres();

describe.skipIf(!pgUp)('details (development server)', () => {
  let app: SecurityApp;
  let cookie: string;
  const post = (path: string, body: unknown) =>
    fetch(`${app.base}${path}`, {
      method: 'POST',
      headers: { cookie, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  beforeAll(async () => {
    app = await startSecurityApp('sec_details', { TRUST_PROXY_HOPS: '1' });
    cookie = await app.login();
  }, 120_000);
  afterAll(async () => app?.stop());

  it('GET /analyses/:id applies the tier retention (free: 7 days), like /history', async () => {
    const res = await post('/api/analyze', { workflowId: DEMO_WORKFLOW });
    expect(res.status).toBe(200);
    const { id } = ((await res.json()) as { data: { id: string } }).data;
    expect((await fetch(`${app.base}/api/analyses/${id}`, { headers: { cookie } })).status).toBe(200);
    await app.pg.pool.query("UPDATE analysis_results SET created_at = now() - interval '30 days' WHERE id = $1", [id]);
    expect((await fetch(`${app.base}/api/analyses/${id}`, { headers: { cookie } })).status).toBe(404);
  });

  it('a fractional or huge version and an overlong or path-like id are 400 VALIDATION, not 500', async () => {
    const base = {
      id: 'shape-1',
      locationId: DEMO_LOCATION,
      name: 'x',
      status: 'draft',
      version: 1,
      allowMultiple: false,
      stopOnResponse: false,
      triggers: [],
      workflowData: { templates: [] },
    };
    for (const bad of [
      { version: 1.5 },
      { version: -1 },
      { version: 2 ** 31 },
      { id: 'a'.repeat(5_000) },
      { id: '..' },
      { id: 'a/b' },
    ]) {
      const res = await post('/api/workflows/import', { ...base, ...bad });
      expect(res.status, JSON.stringify(bad).slice(0, 40)).toBe(400);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('INVALID_WORKFLOW_DEFINITION');
    }
  });

  it('/health/detailed and /internal/* are behind the IP limiter: token guessing gets 429 after 20 a minute', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 22; i++) {
      const res = await fetch(`${app.base}/health/detailed`, {
        headers: { 'x-internal-token': `guess-${i}-${'x'.repeat(24)}`, 'x-forwarded-for': '192.0.2.50' },
      });
      await res.arrayBuffer();
      statuses.push(res.status);
    }
    expect(statuses.slice(0, 20)).toEqual(Array(20).fill(404));
    expect(statuses.slice(20)).toEqual([429, 429]);
    const internal = await fetch(`${app.base}/internal/cache-stats`, {
      headers: { 'x-internal-token': 'guess', 'x-forwarded-for': '192.0.2.50' },
    });
    expect(internal.status).toBe(429);
    // The right token from another address still works.
    expect(
      (
        await fetch(`${app.base}/health/detailed`, {
          headers: { 'x-internal-token': TEST_SECRETS.internalToken, 'x-forwarded-for': '192.0.2.51' },
        })
      ).status,
    ).toBe(200);
  });
});

describe.skipIf(!pgUp)('details (production server on loopback)', () => {
  let app: SecurityApp;
  beforeAll(async () => {
    app = await startSecurityApp('sec_details_prod', {
      NODE_ENV: 'production',
      DEMO_MODE: 'false',
      HOST: '127.0.0.1',
      FRONTEND_URL: 'https://app.example.test',
      GHL_CLIENT_ID: 'ghl-client-id',
      GHL_CLIENT_SECRET: TEST_SECRETS.ghlClientSecret,
      ENCRYPTION_KEY: TEST_SECRETS.encryptionKeyHex,
      STRIPE_SECRET_KEY: TEST_SECRETS.stripeSecretKey,
    });
  }, 120_000);
  afterAll(async () => app?.stop());

  it('the OAuth state cookie is __Host- (Secure, Path=/)', async () => {
    const res = await fetch(`${app.base}/auth/ghl/install`, { redirect: 'manual' });
    expect(res.status).toBe(302);
    const cookie = res.headers.getSetCookie().find((c) => c.includes('ghl_oauth_state'))!;
    expect(cookie).toMatch(/^__Host-ghl_oauth_state=/);
    expect(cookie).toMatch(/; Path=\/(;|$)/);
    expect(cookie).toMatch(/; Secure/);
  });

  it('/metrics scrapes within a few seconds share one collection (the counters do not move between them)', async () => {
    const auth = { authorization: `Bearer ${TEST_SECRETS.internalToken}` };
    const first = await (await fetch(`${app.base}/metrics`, { headers: auth })).text();
    for (let i = 0; i < 5; i++) await (await fetch(`${app.base}/live`)).arrayBuffer();
    const second = await (await fetch(`${app.base}/metrics`, { headers: auth })).text();
    expect(first).toMatch(/^http_requests_total/m);
    expect(second).toBe(first);
  });
});
