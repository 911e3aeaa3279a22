// OAuth install flow and INSTALL/UNINSTALL webhooks over HTTP against the real app, real PostgreSQL and the fake GHL.
import { generateKeyPairSync, sign } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { hasSharedPostgres, sharedPostgres, type SharedPostgres } from '@org/test-services';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate } from '../../src/db/migrations.js';
import { fakeLocationsFromFolder, startFakeGhl, type FakeGhl } from '../../fakes/ghl/server.js';
import { startApp, type GhlApp } from '../support/app.js';

const pgUp = await hasSharedPostgres();
const FIXTURES = fileURLToPath(new URL('../../fakes/ghl/workflows', import.meta.url));
const LOC = 'pR7kQ2sVx9LmN4tYb3Hc';

const cookieOf = (res: Response, name: string) =>
  res.headers
    .getSetCookie()
    .map((c) => c.split(';')[0]!)
    .find((c) => c.startsWith(`${name}=`));

describe.skipIf(!pgUp)('GHL OAuth install and webhooks (shared PostgreSQL, fake GHL)', () => {
  let pg: SharedPostgres;
  let fake: FakeGhl;
  let app: GhlApp;
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const other = generateKeyPairSync('ed25519');

  beforeAll(async () => {
    pg = await sharedPostgres('api_ghl_oauth');
    await migrate({ url: pg.url });
    fake = await startFakeGhl({ locations: fakeLocationsFromFolder(FIXTURES) });
    app = await startApp({ url: pg.url, ghl: { fake, webhookPublicKey: publicKey } });
  });
  afterAll(async () => {
    await app?.close();
    await fake?.close();
    await pg?.cleanup();
  });

  const count = async (sql: string, values: unknown[] = []) =>
    Number((await app.db.query<{ n: string }>(`SELECT count(*)::text AS n FROM ${sql}`, values)).rows[0]!.n);

  /** install -> chooser (the fake) -> the callback URL GHL would send the browser to, plus the state cookie. */
  async function startInstall() {
    const install = await fetch(`${app.base}/auth/ghl/install`, { redirect: 'manual' });
    expect(install.status).toBe(302);
    const chooser = new URL(install.headers.get('location')!);
    const stateCookie = cookieOf(install, 'ghl_oauth_state')!;
    const back = await fetch(chooser, { redirect: 'manual' });
    const callback = new URL(back.headers.get('location')!);
    return {
      chooser,
      stateCookie,
      code: callback.searchParams.get('code')!,
      state: callback.searchParams.get('state')!,
    };
  }
  const callback = (query: Record<string, string>, cookie?: string) =>
    fetch(`${app.base}/auth/ghl/callback?${new URLSearchParams(query)}`, {
      redirect: 'manual',
      headers: cookie ? { cookie } : {},
    });

  it('install redirects to the location chooser with client id, scopes, redirect URI and a server-side state', async () => {
    const { chooser, state, stateCookie } = await startInstall();
    expect(chooser.pathname).toBe('/oauth/chooselocation');
    expect(chooser.searchParams.get('client_id')).toBe('fake-client-id');
    expect(chooser.searchParams.get('response_type')).toBe('code');
    expect(chooser.searchParams.get('scope')).toContain('workflows.readonly');
    expect(state).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(stateCookie).toBe(`ghl_oauth_state=${state}`);
    // Only a hash of the state is stored.
    const { rows } = await app.db.query<{ state_hash: Buffer }>('SELECT state_hash FROM ghl_oauth_states');
    expect(rows.some((r) => r.state_hash.toString('latin1').includes(state))).toBe(false);
    expect(rows.length).toBeGreaterThan(0);
  });

  it('callback with a good state exchanges the code (form-encoded), stores tokens encrypted, upserts the location and starts a session', async () => {
    const { code, state, stateCookie } = await startInstall();
    const exchanges = fake.stats.codeExchanges;
    const res = await callback({ code, state }, stateCookie);
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe('https://app.example.test');
    expect(fake.stats.codeExchanges).toBe(exchanges + 1);
    const session = cookieOf(res, 'session');
    expect(session).toBeDefined();
    expect(await count('ghl_oauth_tokens WHERE location_id = $1', [LOC])).toBe(1);
    expect(await count('locations WHERE id = $1', [LOC])).toBe(1);
    // The session works on the workflow routes, which now reach GHL with the stored token.
    const list = await fetch(`${app.base}/api/workflows`, { headers: { cookie: session! } });
    expect(list.status).toBe(200);
    const body = (await list.json()) as { data: { id: string }[] };
    expect(body.data.length).toBe(5);
  });

  it('refuses a missing, wrong, reused or unbound state without exchanging the code', async () => {
    const { code, state, stateCookie } = await startInstall();
    const exchanges = fake.stats.codeExchanges;
    const expectRefused = async (res: Response) => {
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('OAUTH_STATE_INVALID');
      expect(cookieOf(res, 'session')).toBeUndefined();
    };
    await expectRefused(await callback({ code }, stateCookie));
    await expectRefused(await callback({ code, state: 'x'.repeat(32) }, 'ghl_oauth_state=' + 'x'.repeat(32)));
    const second = await startInstall();
    // A state that exists but is not the one this browser started with.
    await expectRefused(await callback({ code: second.code, state: second.state }, stateCookie));
    // The real one, used once successfully...
    const ok = await callback({ code, state }, stateCookie);
    expect(ok.status).toBe(302);
    // ...and reused.
    await expectRefused(await callback({ code, state }, stateCookie));
    // second.state was consumed by the unbound attempt: even with its own cookie it is gone now.
    await expectRefused(await callback({ code: second.code, state: second.state }, second.stateCookie));
    expect(fake.stats.codeExchanges).toBe(exchanges + 1);
  });

  it('an expired state is refused', async () => {
    const { code, state, stateCookie } = await startInstall();
    await app.db.query("UPDATE ghl_oauth_states SET expires_at = now() - interval '1 second'");
    const res = await callback({ code, state }, stateCookie);
    expect(res.status).toBe(400);
  });

  describe('webhooks', () => {
    const signed = (body: string, key = privateKey) => sign(null, Buffer.from(body), key).toString('base64');
    const event = (type: string, extra: Record<string, unknown> = {}) =>
      JSON.stringify({
        type,
        appId: 'app1',
        locationId: LOC,
        companyId: 'c1',
        timestamp: new Date().toISOString(),
        webhookId: `wh_${Math.random().toString(36).slice(2)}`,
        ...extra,
      });
    const post = (body: string, signature?: string) =>
      fetch(`${app.base}/webhooks/ghl`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(signature ? { 'x-ghl-signature': signature } : {}) },
        body,
      });

    it('tampered, unsigned, wrongly keyed and stale webhooks are refused and write nothing', async () => {
      const tokensBefore = await count('ghl_oauth_tokens');
      const eventsBefore = await count('ghl_webhook_events');
      const body = event('UNINSTALL');
      const tampered = body.replace(LOC, 'Wq3nZ8cRt5YhJ2vKd6Pa');
      const cases: [Response, number, string][] = [
        [await post(tampered, signed(body)), 401, 'WEBHOOK_SIGNATURE_INVALID'],
        [await post(body), 401, 'WEBHOOK_SIGNATURE_MISSING'],
        [await post(body, signed(body, other.privateKey)), 401, 'WEBHOOK_SIGNATURE_INVALID'],
        [await post(body, 'not-base64!'), 401, 'WEBHOOK_SIGNATURE_INVALID'],
        // Re-serialized JSON (other whitespace) is not the signed bytes.
        [await post(JSON.stringify(JSON.parse(body), null, 2), signed(body)), 401, 'WEBHOOK_SIGNATURE_INVALID'],
      ];
      const stale = event('UNINSTALL', { timestamp: new Date(Date.now() - 6 * 60_000).toISOString() });
      cases.push([await post(stale, signed(stale)), 400, 'WEBHOOK_STALE']);
      const future = event('UNINSTALL', { timestamp: new Date(Date.now() + 6 * 60_000).toISOString() });
      cases.push([await post(future, signed(future)), 400, 'WEBHOOK_STALE']);
      for (const [res, status, code] of cases) {
        expect(res.status).toBe(status);
        expect(((await res.json()) as { error: { code: string } }).error.code).toBe(code);
      }
      expect(await count('ghl_oauth_tokens')).toBe(tokensBefore);
      expect(await count('ghl_webhook_events')).toBe(eventsBefore);
    });

    it('a valid UNINSTALL deletes the location tokens; its replay is refused and writes nothing', async () => {
      expect(await count('ghl_oauth_tokens WHERE location_id = $1', [LOC])).toBe(1);
      const body = event('UNINSTALL');
      const res = await post(body, signed(body));
      expect(res.status).toBe(200);
      expect(await count('ghl_oauth_tokens WHERE location_id = $1', [LOC])).toBe(0);
      const events = await count('ghl_webhook_events');
      const replay = await post(body, signed(body));
      expect(replay.status).toBe(409);
      expect(((await replay.json()) as { error: { code: string } }).error.code).toBe('WEBHOOK_REPLAYED');
      expect(await count('ghl_webhook_events')).toBe(events);
    });

    it('a valid INSTALL is recorded once', async () => {
      const body = event('INSTALL', { userId: 'u1', planId: 'p1' });
      expect((await post(body, signed(body))).status).toBe(200);
      expect(await count('ghl_webhook_events WHERE event_type = $1', ['INSTALL'])).toBe(1);
    });
  });
});
