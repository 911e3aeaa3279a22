// Access ends when it should: a GHL UNINSTALL revokes the location's sessions and API keys (and its audit schedule), a
// re-login ends the presented session, idle sessions end, and an API key needs the billing scope for billing actions.
// Over HTTP against src/main.ts in demo mode, with a GHL webhook key generated for the test.
import { generateKeyPairSync, sign } from 'node:crypto';
import { hasSharedPostgres } from '@org/test-services';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKeyStore } from '../../src/auth/api-keys.js';
import { DEMO_LOCATION, startSecurityApp, type SecurityApp } from '../support/security-app.js';
import { TEST_SECRETS } from '../support/app.js';

const pgUp = await hasSharedPostgres();
const { publicKey, privateKey } = generateKeyPairSync('ed25519');

describe.skipIf(!pgUp)("revocation of a location's access", () => {
  let app: SecurityApp;
  let accountId: string;
  const get = (path: string, headers: Record<string, string>) =>
    fetch(`${app.base}${path}`, { headers }).then(async (r) => (await r.arrayBuffer(), r.status));
  const keyFor = async (scopes?: ('analysis' | 'billing')[]) =>
    (
      await createApiKeyStore(app.pg.pool as never, TEST_SECRETS.sessionSecret).create({
        accountId,
        locationId: DEMO_LOCATION,
        name: 'svc',
        scopes,
      })
    ).key;

  beforeAll(async () => {
    app = await startSecurityApp('sec_revocation', {
      GHL_WEBHOOK_PUBLIC_KEY: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    });
    await app.login();
    const { rows } = await app.pg.pool.query('SELECT account_id FROM locations WHERE id = $1', [DEMO_LOCATION]);
    accountId = rows[0].account_id;
  }, 120_000);
  afterAll(async () => app?.stop());

  it('a re-login ends the session the browser presented', async () => {
    const first = await app.login();
    expect(await get('/api/me', { cookie: first })).toBe(200);
    const second = await app.login(first);
    expect(await get('/api/me', { cookie: first })).toBe(401);
    expect(await get('/api/me', { cookie: second })).toBe(200);
  });

  it('a session unused for longer than the idle timeout (24 h) has ended, whatever its absolute expiry', async () => {
    // Unused since it was created: a session the app verified in the last 30 s is trusted without a query
    // (src/auth/principal-cache.ts), which no real idle session can be.
    const cookie = await app.login();
    await app.pg.pool.query("UPDATE sessions SET last_seen_at = now() - interval '25 hours' WHERE location_id = $1", [
      DEMO_LOCATION,
    ]);
    expect(await get('/api/me', { cookie })).toBe(401);
    expect(await get('/api/me', { cookie: await app.login() })).toBe(200);
  });

  it('an API key without the billing scope cannot start a checkout or open the portal (403); with it, it gets past the scope check', async () => {
    const readOnly = await keyFor(['analysis']);
    for (const path of ['/api/subscription/checkout', '/api/subscription/portal']) {
      const res = await fetch(`${app.base}${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${readOnly}`, 'content-type': 'application/json' },
        body: '{"tier":"pro"}',
      });
      expect(res.status, path).toBe(403);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('INSUFFICIENT_SCOPE');
    }
    expect(await get('/api/subscription', { authorization: `Bearer ${readOnly}` })).toBe(200);
    const billing = await keyFor(['analysis', 'billing']);
    const res = await fetch(`${app.base}/api/subscription/checkout`, {
      method: 'POST',
      headers: { authorization: `Bearer ${billing}`, 'content-type': 'application/json' },
      body: '{"tier":"pro"}',
    });
    expect(res.status).not.toBe(403);
  });

  it('a signed UNINSTALL revokes every session and API key of the location at once', async () => {
    const cookie = await app.login();
    const key = await keyFor();
    expect(await get('/api/history', { cookie })).toBe(200);
    expect(await get('/api/history', { authorization: `Bearer ${key}` })).toBe(200);

    const body = Buffer.from(
      JSON.stringify({
        type: 'UNINSTALL',
        webhookId: 'wh-uninstall-1',
        timestamp: new Date().toISOString(),
        locationId: DEMO_LOCATION,
        appId: 'app',
      }),
    );
    const res = await fetch(`${app.base}/webhooks/ghl`, {
      method: 'POST',
      headers: {
        'x-ghl-signature': sign(null, body, privateKey).toString('base64'),
        'content-type': 'application/json',
      },
      body,
    });
    expect(res.status).toBe(200);

    expect(await get('/api/history', { cookie })).toBe(401);
    expect(await get('/api/history', { authorization: `Bearer ${key}` })).toBe(401);
    const { rows } = await app.pg.pool.query(
      'SELECT (SELECT count(*)::int FROM sessions WHERE location_id = $1) AS sessions, (SELECT count(*)::int FROM api_keys WHERE location_id = $1 AND revoked_at IS NULL) AS keys',
      [DEMO_LOCATION],
    );
    expect(rows[0]).toEqual({ sessions: 0, keys: 0 });
  });
});
