// Forged and dead credentials cost no database round trip: API keys carry an HMAC tag (a forged key fails before any
// query), session cookies are signed, dead ones are remembered for a minute, and an address that keeps failing has its
// credentials ignored. The queries are counted in PostgreSQL itself (pg_stat_user_tables of the app's database, read
// once the app has exited so that every backend has flushed its statistics). Over HTTP against src/main.ts.
import { randomBytes } from 'node:crypto';
import { hasSharedPostgres } from '@org/test-services';
import { beforeAll, describe, expect, it } from 'vitest';
import { createApiKeyStore } from '../../src/auth/api-keys.js';
import { startSecurityApp, type SecurityApp } from '../support/security-app.js';
import { seedTenant, TEST_SECRETS } from '../support/app.js';

const pgUp = await hasSharedPostgres();

const b64 = (bytes: number) => randomBytes(bytes).toString('base64url');
/** A well-formed key of the current shape with a random tag, and one of the shape without a tag. */
const forgedKey = (i: number) =>
  i % 2 ? `ak_${'Forged00'}_${b64(32)}_${b64(16).slice(0, 22)}` : `ak_AAAAAAAA_${b64(32)}`;
/** A client address per request (TRUST_PROXY_HOPS=1), so that no per-address budget is what stops the flood. */
const address = (i: number) => `198.51.${(i >> 8) & 255}.${i & 255}`;

async function scans(app: SecurityApp, table: string): Promise<number> {
  const { rows } = await app.pg.pool.query(
    'SELECT coalesce(seq_scan, 0) + coalesce(idx_scan, 0) AS n FROM pg_stat_user_tables WHERE relname = $1',
    [table],
  );
  return Number(rows[0].n);
}

/** Runs `count` requests, `concurrency` at a time; resolves with their statuses. */
async function flood(count: number, concurrency: number, request: (i: number) => Promise<Response>): Promise<number[]> {
  const statuses: number[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        const res = await request(next++);
        await res.arrayBuffer();
        statuses.push(res.status);
      }
    }),
  );
  return statuses;
}

describe.skipIf(!pgUp)('forged credentials flood (5,000 random API keys, 1,000 replays of a logged-out cookie)', () => {
  let app: SecurityApp;
  let legitKey: string;
  const legit = { before: [] as number[], during: [] as number[] };

  beforeAll(async () => {
    app = await startSecurityApp('sec_forged', { TRUST_PROXY_HOPS: '1' });
    const tenant = await seedTenant(app.pg.pool as never, 'loc-forged');
    await app.pg.pool.query(
      "INSERT INTO stripe_customers (location_id, customer_id, status, tier) VALUES ($1, 'cus_f', 'active', 'enterprise')",
      [tenant.locationId],
    );
    legitKey = (
      await createApiKeyStore(app.pg.pool as never, TEST_SECRETS.sessionSecret).create({ ...tenant, name: 'legit' })
    ).key;
    const me = async (into: number[]) => {
      const started = performance.now();
      const res = await fetch(`${app.base}/api/me`, {
        headers: { authorization: `Bearer ${legitKey}`, 'x-forwarded-for': '203.0.113.7' },
      });
      expect(res.status).toBe(200);
      into.push(performance.now() - started);
    };
    for (let i = 0; i < 20; i++) await me(legit.before);

    // A session of the attacker's own, logged out: its cookie is correctly signed but names nothing any more.
    const cookie = await app.login();
    expect(
      (
        await fetch(`${app.base}/api/session/logout`, {
          method: 'POST',
          headers: { cookie, 'x-forwarded-for': '203.0.113.8' },
        })
      ).status,
    ).toBeLessThan(300);

    const done = { flood: false };
    const legitLoop = (async () => {
      while (!done.flood) {
        await me(legit.during);
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    const keyStatuses = await flood(5_000, 50, (i) =>
      fetch(`${app.base}/api/me`, {
        headers: { authorization: `Bearer ${forgedKey(i)}`, 'x-forwarded-for': address(i) },
      }),
    );
    const cookieStatuses = await flood(1_000, 25, (i) =>
      fetch(`${app.base}/api/me`, { headers: { cookie, 'x-forwarded-for': address(10_000 + i) } }),
    );
    done.flood = true;
    await legitLoop;
    expect(keyStatuses.every((s) => s === 401 || s === 429)).toBe(true);
    expect(cookieStatuses.every((s) => s === 401 || s === 429)).toBe(true);
    // Exiting flushes every backend's statistics; the database stays until the end of the test.
    app.child.kill('SIGTERM');
    await app.exited;
  }, 300_000);

  it('the 5,000 forged API keys cause no api_keys query: only the legitimate key is looked up', async () => {
    const n = await scans(app, 'api_keys');
    // Each legitimate request costs at most two scans (the last-used touch and the lookup), plus a few for seeding
    // and migrations; the forged ones cost none (today's main: two per forged key, over 10,000).
    expect(n).toBeLessThanOrEqual(2 * (legit.before.length + legit.during.length) + 20);
    expect(n).toBeLessThan(2_000);
  });

  it('1,000 replays of the logged-out cookie cost at most a few sessions queries (negative cache)', async () => {
    expect(await scans(app, 'sessions')).toBeLessThan(20);
  });

  it('legitimate requests keep their latency during the flood', async () => {
    const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1]!;
    console.info(
      `legitimate /api/me: median ${median(legit.before).toFixed(1)} ms before, ${median(legit.during).toFixed(1)} ms during the flood (n=${legit.during.length})`,
    );
    expect(legit.during.length).toBeGreaterThan(5);
    // Generous: the flood shares two busy cores with the app; what must not happen is a pool exhausted by lookups.
    expect(median(legit.during)).toBeLessThan(Math.max(250, 10 * median(legit.before)));
    await app.stop();
  });
});
