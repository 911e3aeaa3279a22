// Verified sessions and API keys are remembered in the app's @org/cache (src/auth/principal-cache.ts): a known
// credential costs no PostgreSQL round trip, and logout / key revocation are refused on the very next request, in the
// instance that revoked AND in a second instance sharing Redis (the cache's pub/sub invalidation). Two real apps
// (createApp + createLibraries as main.ts wires them) on the shared PostgreSQL and Redis, over HTTP.
import {
  hasSharedPostgres,
  hasSharedRedis,
  sharedPostgres,
  sharedRedis,
  type SharedPostgres,
  type SharedRedis,
} from '@org/test-services';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKeyStore } from '../../src/auth/api-keys.js';
import { principalCache } from '../../src/auth/principal-cache.js';
import { createSessionStore } from '../../src/auth/sessions.js';
import { migrate } from '../../src/db/migrations.js';
import { seedTenant, startApp, TEST_SECRETS, type App } from '../support/app.js';

const up = (await hasSharedPostgres()) && (await hasSharedRedis());

describe.skipIf(!up)('principal cache across two instances sharing Redis', () => {
  let pg: SharedPostgres;
  let redis: SharedRedis;
  let a: App;
  let b: App;
  let tenant: { accountId: string; locationId: string };
  const me = (app: App, headers: Record<string, string>) =>
    fetch(`${app.base}/api/me`, { headers }).then(async (r) => (await r.arrayBuffer(), r.status));

  beforeAll(async () => {
    pg = await sharedPostgres('api_principal_cache');
    redis = await sharedRedis('principal_cache');
    await migrate({ url: pg.url });
    // One cache namespace for both instances (as two replicas of one deployment), separate rate-limit counters.
    const libraries = (n: string) => ({
      redisUrl: redis.url,
      enableMetrics: false,
      prefixes: { cache: `${redis.prefix}cache`, rateLimit: `${redis.prefix}rl${n}:` },
    });
    a = await startApp({ url: pg.url, libraries: libraries('a') });
    b = await startApp({ url: pg.url, libraries: libraries('b') });
    tenant = await seedTenant(a.db, 'loc-principal-cache');
    // Enterprise: the general limit (500/min) stays out of reach of this file's requests.
    await a.db.query(
      "INSERT INTO stripe_customers (location_id, customer_id, status, tier) VALUES ($1, 'cus_pc', 'active', 'enterprise')",
      [tenant.locationId],
    );
  }, 60_000);
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await redis?.cleanup();
    await pg?.cleanup();
  });

  const newSession = async () =>
    `session=${encodeURIComponent(await createSessionStore(a.db, TEST_SECRETS.sessionSecret).create(tenant.accountId, tenant.locationId, 60_000))}`;

  it("a verified session is served from the cache: deleting its row behind the app's back changes nothing until the TTL", async () => {
    const cookie = await newSession();
    expect(await me(a, { cookie })).toBe(200);
    await a.db.query('DELETE FROM sessions WHERE account_id = $1', [tenant.accountId]);
    // No query would find it now: only the cached principal can answer 200.
    expect(await me(a, { cookie })).toBe(200);
  });

  it('logout on one instance: the very next request is refused there and on the other instance', async () => {
    const cookie = await newSession();
    expect(await me(a, { cookie })).toBe(200);
    expect(await me(b, { cookie })).toBe(200);
    const logout = await fetch(`${a.base}/api/session/logout`, { method: 'POST', headers: { cookie } });
    expect(logout.status).toBe(200);
    expect(await me(a, { cookie })).toBe(401);
    expect(await me(b, { cookie })).toBe(401);
  });

  it('API key revocation in one process: the very next request is refused there and on the other instance', async () => {
    const keys = createApiKeyStore(a.db, TEST_SECRETS.sessionSecret, { cache: a.libs!.cache });
    const { id, key } = await keys.create({ ...tenant, name: 'revoked-soon' });
    const auth = { authorization: `Bearer ${key}` };
    expect(await me(a, auth)).toBe(200);
    expect(await me(b, auth)).toBe(200);
    await keys.revoke(id);
    expect(await me(a, auth)).toBe(401);
    expect(await me(b, auth)).toBe(401);
  });

  it('GHL uninstall (rows revoked, then the location forgotten as the webhook does): the next request is refused on both instances', async () => {
    const cookie = await newSession();
    const { key } = await createApiKeyStore(a.db, TEST_SECRETS.sessionSecret).create({
      ...tenant,
      name: 'uninstalled',
    });
    const auth = { authorization: `Bearer ${key}` };
    for (const app of [a, b]) {
      expect(await me(app, { cookie })).toBe(200);
      expect(await me(app, auth)).toBe(200);
    }
    // What the UNINSTALL webhook commits (src/ghl/webhooks.ts), then what its onEvent does (src/features/workflows/module.ts).
    await a.db.query('DELETE FROM sessions WHERE location_id = $1', [tenant.locationId]);
    await a.db.query('UPDATE api_keys SET revoked_at = now() WHERE location_id = $1 AND revoked_at IS NULL', [
      tenant.locationId,
    ]);
    await principalCache(a.libs!.cache).forgetLocation(tenant.locationId);
    for (const app of [a, b]) {
      expect(await me(app, { cookie })).toBe(401);
      expect(await me(app, auth)).toBe(401);
    }
  });

  it('the cache holds neither the session token nor the API key, only their SHA-256', async () => {
    const cookie = await newSession();
    const { key } = await createApiKeyStore(a.db, TEST_SECRETS.sessionSecret).create({ ...tenant, name: 'stored' });
    expect(await me(a, { cookie })).toBe(200);
    expect(await me(a, { authorization: `Bearer ${key}` })).toBe(200);
    const stored = await redis.client.keys(`${redis.prefix}cache*principal*`);
    expect(stored.length).toBeGreaterThanOrEqual(2);
    const token = decodeURIComponent(cookie.slice('session='.length)).split('.')[0]!;
    for (const k of stored) {
      // Entries are strings; the location's tag is a set of entry keys.
      const value =
        (await redis.client.type(k)) === 'set'
          ? (await redis.client.smembers(k)).join(' ')
          : ((await redis.client.get(k)) ?? '');
      // `ak_<8-character prefix>_<43-character secret>_<tag>`: the secret is cut by position (it may contain '_').
      for (const secret of [token, key, key.slice(12, 55)]) {
        expect(k).not.toContain(secret);
        expect(value).not.toContain(secret);
      }
    }
  });
});
