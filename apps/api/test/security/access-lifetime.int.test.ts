// Access and open connections end when they should, in the running server (src/main.ts in demo mode, over HTTP):
// - the periodic sweep (SESSION_SWEEP_INTERVAL_MS) deletes expired and idle sessions from PostgreSQL, live ones stay;
// - a signed GHL UNINSTALL removes the location's audit schedule with its sessions and API keys, and no audit runs for
//   it afterwards (an every-second AUDIT_CRON keeps ticking);
// - a job progress stream (SSE) ends after JOB_EVENTS_MAX_LIFETIME_MS with a final `expired` event the client
//   reconnects from, and releases its slot (the per-location cap of 5 streams does not fill up with expired ones).
import { generateKeyPairSync, sign } from 'node:crypto';
import { canStartRedis, hasSharedPostgres, startRedis, waitFor, type PrivateRedis } from '@org/test-services';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKeyStore } from '../../src/auth/api-keys.js';
import { DEMO_LOCATION, DEMO_WORKFLOW, startSecurityApp, type SecurityApp } from '../support/security-app.js';
import { TEST_SECRETS } from '../support/app.js';

const pgUp = await hasSharedPostgres();
const { publicKey, privateKey } = generateKeyPairSync('ed25519');

describe.skipIf(!pgUp)('session sweep and uninstall (SESSION_SWEEP_INTERVAL_MS=300, AUDIT_CRON every second)', () => {
  let app: SecurityApp;
  const status = (path: string, headers: Record<string, string>) =>
    fetch(`${app.base}${path}`, { headers }).then(async (r) => (await r.arrayBuffer(), r.status));
  const sessions = async () =>
    Number(
      (await app.pg.pool.query('SELECT count(*) AS n FROM sessions WHERE location_id = $1', [DEMO_LOCATION])).rows[0].n,
    );

  beforeAll(async () => {
    app = await startSecurityApp('sec_access_lifetime', {
      SESSION_SWEEP_INTERVAL_MS: '300',
      AUDIT_CRON: '* * * * * *',
      GHL_WEBHOOK_PUBLIC_KEY: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    });
  }, 120_000);
  afterAll(async () => app?.stop());

  it('expired and idle sessions disappear from PostgreSQL on the next sweep; a live one stays and keeps working', async () => {
    // Three fresh browsers (no cookie presented, nothing revoked), logged in one after the other.
    const live = await app.login();
    const expired = await app.login();
    const idle = await app.login();
    const { rows } = await app.pg.pool.query(
      'SELECT id_hash FROM sessions WHERE location_id = $1 ORDER BY created_at, ctid',
      [DEMO_LOCATION],
    );
    expect(rows).toHaveLength(3);
    const [liveRow, expiredRow, idleRow] = rows;
    // One past its absolute expiry, one past the 24-hour idle timeout.
    await app.pg.pool.query("UPDATE sessions SET expires_at = now() - interval '1 second' WHERE id_hash = $1", [
      expiredRow.id_hash,
    ]);
    await app.pg.pool.query("UPDATE sessions SET last_seen_at = now() - interval '25 hours' WHERE id_hash = $1", [
      idleRow.id_hash,
    ]);
    await waitFor(
      'the sweep to delete the expired and idle sessions',
      async () => (await sessions()) === 1,
      15_000,
      100,
    );
    const left = await app.pg.pool.query('SELECT id_hash FROM sessions WHERE location_id = $1', [DEMO_LOCATION]);
    expect(left.rows.map((r) => r.id_hash.toString('hex'))).toEqual([liveRow.id_hash.toString('hex')]);
    expect(await status('/api/me', { cookie: live })).toBe(200);
    expect(await status('/api/me', { cookie: idle })).toBe(401);
    expect(await status('/api/me', { cookie: expired })).toBe(401);
  }, 30_000);

  it('a signed UNINSTALL removes the audit schedule with the sessions and API keys; no audit runs for the location afterwards', async () => {
    const cookie = await app.login();
    const { rows: account } = await app.pg.pool.query('SELECT account_id FROM locations WHERE id = $1', [
      DEMO_LOCATION,
    ]);
    const key = (
      await createApiKeyStore(app.pg.pool as never, TEST_SECRETS.sessionSecret).create({
        accountId: account[0].account_id,
        locationId: DEMO_LOCATION,
        name: 'svc',
      })
    ).key;
    const audit = async (headers: Record<string, string>) =>
      (
        (await (await fetch(`${app.base}/api/locations/current/audit`, { headers })).json()) as {
          data: { schedule: { pattern: string } | null };
        }
      ).data;
    expect((await audit({ cookie })).schedule?.pattern).toBe('* * * * * *');
    // The schedule ticks: the location's audits run (and record themselves) every second.
    const lastRun = async () =>
      (await app.pg.pool.query('SELECT ran_at FROM location_audits WHERE location_id = $1', [DEMO_LOCATION])).rows[0]
        ?.ran_at as Date | undefined;
    await waitFor('an audit of the location', async () => (await lastRun()) !== undefined, 20_000, 100);
    const first = (await lastRun())!.getTime();
    await waitFor('a second audit tick', async () => (await lastRun())!.getTime() > first, 20_000, 100);

    const body = Buffer.from(
      JSON.stringify({
        type: 'UNINSTALL',
        webhookId: 'wh-uninstall-audit',
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
    const uninstalledAt = Date.now();

    expect(await status('/api/history', { cookie })).toBe(401);
    expect(await status('/api/history', { authorization: `Bearer ${key}` })).toBe(401);
    const { rows } = await app.pg.pool.query(
      `SELECT (SELECT count(*)::int FROM sessions WHERE location_id = $1) AS sessions, (SELECT count(*)::int FROM api_keys WHERE location_id = $1 AND revoked_at IS NULL) AS keys,
              (SELECT count(*)::int FROM ghl_oauth_tokens WHERE location_id = $1) AS tokens`,
      [DEMO_LOCATION],
    );
    expect(rows[0]).toEqual({ sessions: 0, keys: 0, tokens: 0 });
    // A new demo session of the (still seeded) location sees no schedule any more.
    expect((await audit({ cookie: await app.login() })).schedule).toBeNull();
    // Three seconds of an every-second cron later, no audit has run for the location.
    const before = (await lastRun())!.getTime();
    await new Promise((r) => setTimeout(r, 3_000));
    expect((await lastRun())!.getTime()).toBe(before);
    expect(before).toBeLessThan(uninstalledAt);
  }, 60_000);
});

describe.skipIf(!pgUp || !canStartRedis())(
  'the maximum lifetime of a job progress stream (JOB_EVENTS_MAX_LIFETIME_MS=1500)',
  () => {
    let redis: PrivateRedis;
    let app: SecurityApp;
    let cookie: string;

    beforeAll(async () => {
      redis = await startRedis();
      // --role api only queues: the job stays queued, so only the lifetime can end its stream.
      app = await startSecurityApp(
        'sec_sse_lifetime',
        { REDIS_URL: redis.url, JOB_EVENTS_MAX_LIFETIME_MS: '1500', RATE_LIMIT_TIMEOUT_MS: '1000' },
        ['--role', 'api'],
      );
      cookie = await app.login();
    }, 120_000);
    afterAll(async () => {
      await app?.stop();
      await redis?.stop();
    });

    /** Reads a whole event stream; resolves with its events once the server ends it. */
    async function readStream(
      path: string,
    ): Promise<{ status: number; events: { id?: string; event?: string; data?: string }[]; elapsedMs: number }> {
      const started = performance.now();
      const res = await fetch(`${app.base}${path}`, { headers: { cookie, accept: 'text/event-stream' } });
      const text = await res.text();
      const events = text
        .split('\n\n')
        .filter((block) => block.trim() && !block.startsWith(':'))
        .map((block) =>
          Object.fromEntries(
            block
              .split('\n')
              .filter((l) => !l.startsWith(':'))
              .map((line) => [line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 1).trim()]),
          ),
        );
      return { status: res.status, events, elapsedMs: performance.now() - started };
    }

    it('a stream of a job that never finishes ends cleanly after the lifetime with a final `expired` event; reconnecting works, and the slots are released', async () => {
      const queued = await fetch(`${app.base}/api/analyze`, {
        method: 'POST',
        headers: { cookie, 'content-type': 'application/json' },
        body: JSON.stringify({ workflowId: DEMO_WORKFLOW, async: true }),
      });
      expect(queued.status).toBe(202);
      const { jobId } = ((await queued.json()) as { data: { jobId: string } }).data;

      const first = await readStream(`/api/jobs/${jobId}/events`);
      expect(first.status).toBe(200);
      // Ended by the server (fetch's text() resolved), not before the lifetime and well before the 10-minute default.
      expect(first.elapsedMs).toBeGreaterThanOrEqual(1_400);
      expect(first.elapsedMs).toBeLessThan(30_000);
      const last = first.events.at(-1)!;
      expect(last.event).toBe('expired');
      expect(last.id).toMatch(/^\d+$/);
      expect(JSON.parse(last.data!)).toEqual({ id: jobId, reconnect: true });
      expect(first.events.filter((e) => e.event === 'end')).toEqual([]);

      // Six streams one after another in two rounds of 5 at once: an expired stream gives its slot back (cap: 5 per location).
      for (let round = 0; round < 2; round++) {
        const streams = await Promise.all(Array.from({ length: 5 }, () => readStream(`/api/jobs/${jobId}/events`)));
        for (const s of streams) {
          expect(s.status).toBe(200);
          expect(s.events.at(-1)?.event).toBe('expired');
        }
      }
    }, 60_000);
  },
);
