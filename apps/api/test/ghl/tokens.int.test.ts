// Token store against real PostgreSQL and the fake GHL: encrypted at rest, refresh single-flight in one process and
// across processes (PostgreSQL advisory lock), rotation of the encryption key.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { hasSharedPostgres, sharedPostgres, type SharedPostgres } from '@org/test-services';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDatabase, type Database } from '../../src/db/database.js';
import { migrate } from '../../src/db/migrations.js';
import { fakeLocationsFromFolder, startFakeGhl, type FakeGhl } from '../../fakes/ghl/server.js';
import { createOAuthClient } from '../../src/ghl/oauth.js';
import { createTokenCipher } from '../../src/ghl/token-crypto.js';
import { createTokenStore, type TokenStore } from '../../src/ghl/token-store.js';
import { createLogger } from '../../src/observability/logger.js';
import { APP_DIR } from '../support/child.js';
import { TEST_ENCRYPTION_KEY, seedTenant } from '../support/app.js';

const pgUp = await hasSharedPostgres();
const FIXTURES = fileURLToPath(new URL('../../fakes/ghl/workflows', import.meta.url));
const LOC = 'pR7kQ2sVx9LmN4tYb3Hc';

describe.skipIf(!pgUp)('GHL token store (shared PostgreSQL, fake GHL)', () => {
  let pg: SharedPostgres;
  let db: Database;
  let fake: FakeGhl;
  let store: TokenStore;
  const cipher = createTokenCipher({ keys: { k1: TEST_ENCRYPTION_KEY }, currentKeyId: 'k1' });

  beforeAll(async () => {
    pg = await sharedPostgres('api_ghl_tokens');
    await migrate({ url: pg.url });
    db = createDatabase({ url: pg.url, logger: createLogger({ level: 'silent' }), statementTimeoutMs: 20_000 });
    fake = await startFakeGhl({ locations: fakeLocationsFromFolder(FIXTURES) });
    store = createTokenStore({
      db,
      cipher,
      oauth: createOAuthClient({ baseUrl: fake.url, clientId: 'fake-client-id', clientSecret: 'fake-client-secret' }),
    });
    await seedTenant(db, LOC);
  });
  afterAll(async () => {
    await fake?.close();
    await db?.close();
    await pg?.cleanup();
  });

  const install = async () => {
    const grant = fake.grant(LOC);
    await store.save(db, { ...grant, locationId: LOC });
    return grant;
  };
  const expire = () =>
    db.query("UPDATE ghl_oauth_tokens SET expires_at = now() - interval '1 minute' WHERE location_id = $1", [LOC]);
  const storedRefreshToken = async () => {
    const { rows } = await db.query<{ refresh_token_encrypted: Buffer; key_id: string }>(
      'SELECT refresh_token_encrypted, key_id FROM ghl_oauth_tokens WHERE location_id = $1',
      [LOC],
    );
    return cipher.open(
      { keyId: rows[0]!.key_id, data: rows[0]!.refresh_token_encrypted },
      `ghl_oauth_tokens:${LOC}:refresh`,
    );
  };

  it('stores tokens encrypted (no plaintext in the row) and hands out the access token while it is fresh', async () => {
    const grant = await install();
    const { rows } = await db.query('SELECT * FROM ghl_oauth_tokens WHERE location_id = $1', [LOC]);
    const row = rows[0]!;
    const raw =
      JSON.stringify(row) + Buffer.concat([row.access_token_encrypted, row.refresh_token_encrypted]).toString('latin1');
    expect(raw).not.toContain(grant.access_token);
    expect(raw).not.toContain(grant.refresh_token);
    expect(row.key_id).toBe('k1');
    const before = fake.stats.refreshes;
    expect(await store.accessToken(LOC)).toBe(grant.access_token);
    expect(fake.stats.refreshes).toBe(before);
  });

  it('50 concurrent calls on an expired token make exactly one refresh; all get the new token, persisted first', async () => {
    const old = await install();
    await expire();
    fake.settings.refreshDelayMs = 300;
    const before = fake.stats.refreshes;
    const tokens = await Promise.all(Array.from({ length: 50 }, () => store.accessToken(LOC)));
    fake.settings.refreshDelayMs = 0;
    expect(fake.stats.refreshes - before).toBe(1);
    expect(new Set(tokens).size).toBe(1);
    expect(tokens[0]).not.toBe(old.access_token);
    // The rotated refresh token is the one stored; the old one is dead at GHL.
    const stored = await storedRefreshToken();
    expect(stored).not.toBe(old.refresh_token);
    const reuse = await fetch(`${fake.url}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        client_id: 'fake-client-id',
        client_secret: 'fake-client-secret',
        grant_type: 'refresh_token',
        refresh_token: old.refresh_token,
      }),
    });
    expect(reuse.status).toBe(400);
  });

  it('a failing refresh fails all 50 callers with the same typed error after one attempt (no storm)', async () => {
    await install();
    await expire();
    fake.settings.failRefresh = true;
    fake.settings.refreshDelayMs = 200;
    const before = fake.stats.failedRefreshes + fake.stats.refreshes;
    const results = await Promise.allSettled(Array.from({ length: 50 }, () => store.accessToken(LOC)));
    fake.settings.failRefresh = false;
    fake.settings.refreshDelayMs = 0;
    expect(
      results.every((r) => r.status === 'rejected' && (r.reason as { code?: string }).code === 'GHL_REFRESH_REJECTED'),
    ).toBe(true);
    expect(fake.stats.failedRefreshes + fake.stats.refreshes - before).toBe(1);
  });

  it('a 401 on a fresh-looking token refreshes once; the rejected token is not handed out again', async () => {
    const grant = await install();
    const before = fake.stats.refreshes;
    const [a, b] = await Promise.all([
      store.accessToken(LOC, { rejected: grant.access_token }),
      store.accessToken(LOC, { rejected: grant.access_token }),
    ]);
    expect(a).toBe(b);
    expect(a).not.toBe(grant.access_token);
    expect(fake.stats.refreshes - before).toBe(1);
  });

  it('two processes refreshing at once: exactly one refresh at GHL, both end with the new token', async () => {
    await install();
    await expire();
    fake.settings.refreshDelayMs = 400;
    const before = fake.stats.refreshes;
    const children = [0, 1].map(() =>
      spawn(process.execPath, ['--import', 'tsx', 'test/support/ghl-refresh-child.ts'], {
        cwd: APP_DIR,
        env: {
          PATH: process.env.PATH ?? '',
          HOME: process.env.HOME ?? '',
          DATABASE_URL: pg.url,
          FAKE_URL: fake.url,
          KEY_HEX: TEST_ENCRYPTION_KEY.toString('hex'),
          LOCATION: LOC,
        },
        stdio: ['pipe', 'pipe', 'inherit'],
      }),
    );
    const lines = children.map((child) => {
      const rl = createInterface({ input: child.stdout! });
      const queue: string[] = [];
      const waiters: ((line: string) => void)[] = [];
      rl.on('line', (line) => (waiters.length ? waiters.shift()!(line) : queue.push(line)));
      return () => new Promise<string>((resolve) => (queue.length ? resolve(queue.shift()!) : waiters.push(resolve)));
    });
    expect(await Promise.all(lines.map((next) => next()))).toEqual(['ready', 'ready']);
    for (const child of children) child.stdin!.write('go\n');
    const outputs = (await Promise.all(lines.map((next) => next()))).map((l) => JSON.parse(l) as string[]);
    await Promise.all(children.map((c) => new Promise((r) => (c.exitCode !== null ? r(null) : c.once('exit', r)))));
    fake.settings.refreshDelayMs = 0;
    expect(fake.stats.refreshes - before).toBe(1);
    const all = outputs.flat();
    expect(all).toHaveLength(50);
    expect(new Set(all).size).toBe(1);
    expect(all[0]).toMatch(/^fake-access-/);
    // And this process, reading the row, sees the same pair.
    expect(await store.accessToken(LOC)).toBe(all[0]);
  }, 60_000);

  it('re-encrypts rows sealed with a retired key under the current key', async () => {
    const grant = await install();
    const k2 = Buffer.alloc(32, 7);
    const rotated = createTokenCipher({ keys: { k1: TEST_ENCRYPTION_KEY, k2 }, currentKeyId: 'k2' });
    const rotatedStore = createTokenStore({
      db,
      cipher: rotated,
      oauth: createOAuthClient({ baseUrl: fake.url, clientId: 'fake-client-id', clientSecret: 'fake-client-secret' }),
    });
    expect(await rotatedStore.accessToken(LOC)).toBe(grant.access_token);
    expect(await rotatedStore.reencryptAll()).toBe(1);
    expect(await rotatedStore.reencryptAll()).toBe(0);
    const { rows } = await db.query<{ key_id: string }>('SELECT key_id FROM ghl_oauth_tokens WHERE location_id = $1', [
      LOC,
    ]);
    expect(rows[0]!.key_id).toBe('k2');
    const onlyK2 = createTokenStore({
      db,
      cipher: createTokenCipher({ keys: { k2 }, currentKeyId: 'k2' }),
      oauth: createOAuthClient({ baseUrl: fake.url, clientId: 'x', clientSecret: 'y' }),
    });
    expect(await onlyK2.accessToken(LOC)).toBe(grant.access_token);
    await expect(store.accessToken(LOC)).rejects.toMatchObject({ code: 'TOKEN_UNKNOWN_KEY' });
  });
});
