import { hasSharedPostgres, sharedPostgres, type SharedPostgres } from '@org/test-services';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  PURGE_BATCH_SQL,
  purgeExpiredHistory,
  purgeProcessedEvents,
  startRetentionJob,
} from '../../../src/features/billing/retention.js';
import { createDatabase, type Database } from '../../../src/db/database.js';
import { migrate } from '../../../src/db/migrations.js';
import { createLogger } from '../../../src/observability/logger.js';
import { LogCapture, seedTenant } from '../../support/app.js';

const pgUp = await hasSharedPostgres();

describe.skipIf(!pgUp)('retention purge job (shared PostgreSQL)', () => {
  let pg: SharedPostgres;
  let db: Database;
  const logs = new LogCapture();
  const logger = createLogger({ level: 'debug', destination: logs });

  async function rows(locationId: string, ages: number[]) {
    for (const days of ages) {
      await db.query(
        "INSERT INTO analysis_results (location_id, workflow_id, workflow_version, health_score, issues_found, tier, created_at) VALUES ($1, 'wf', 1, 50, 0, 'free', now() - make_interval(days => $2) - interval '1 minute')",
        [locationId, days],
      );
    }
  }
  const ages = async (locationId: string) =>
    (
      await db.query<{ d: number }>(
        'SELECT floor(extract(epoch FROM now() - created_at) / 86400)::int AS d FROM analysis_results WHERE location_id = $1 ORDER BY created_at DESC',
        [locationId],
      )
    ).rows.map((r) => r.d);

  beforeAll(async () => {
    pg = await sharedPostgres('api_billing_retention');
    await migrate({ url: pg.url });
    db = createDatabase({ url: pg.url, logger, max: 6 });
    await seedTenant(db, 'loc-free');
    await seedTenant(db, 'loc-pro');
    await seedTenant(db, 'loc-grace');
    await seedTenant(db, 'loc-lapsed');
    await db.query(
      "INSERT INTO stripe_customers (location_id, customer_id, status, tier) VALUES ('loc-pro', 'cus_pro', 'active', 'pro')",
    );
    await db.query(
      "INSERT INTO stripe_customers (location_id, customer_id, status, tier, grace_until) VALUES ('loc-grace', 'cus_grace', 'past_due', 'enterprise', now() + interval '2 days')",
    );
    await db.query(
      "INSERT INTO stripe_customers (location_id, customer_id, status, tier) VALUES ('loc-lapsed', 'cus_lapsed', 'canceled', 'enterprise')",
    );
    const spread = [0, 1, 6, 8, 10, 20, 40, 89, 91, 120, 200, 364, 366, 400];
    for (const loc of ['loc-free', 'loc-pro', 'loc-grace', 'loc-lapsed']) await rows(loc, spread);
  });
  afterAll(async () => {
    await db?.close();
    await pg?.cleanup();
  });

  it('deletes per location beyond its tier retention, in batches, with several purgers at once', async () => {
    // Three purgers with tiny batches race; SKIP LOCKED keeps them off each other's rows.
    const deleted = await Promise.all([
      purgeExpiredHistory(db, { batchSize: 2 }),
      purgeExpiredHistory(db, { batchSize: 3 }),
      purgeExpiredHistory(db, { batchSize: 2 }),
    ]);
    expect(deleted.reduce((a, b) => a + b, 0)).toBe(11 + 6 + 0 + 11);
    expect(await ages('loc-free')).toEqual([0, 1, 6]);
    expect(await ages('loc-pro')).toEqual([0, 1, 6, 8, 10, 20, 40, 89]);
    expect(await ages('loc-grace')).toEqual([0, 1, 6, 8, 10, 20, 40, 89, 91, 120, 200, 364, 366, 400]); // enterprise: unlimited
    expect(await ages('loc-lapsed')).toEqual([0, 1, 6]);
    expect(await purgeExpiredHistory(db)).toBe(0);
  });

  it('finds the rows through the per-location index', async () => {
    // A realistic shape: many locations, recent history mostly; the plan must not scan the whole table per batch.
    const account = (
      await db.query<{ id: string }>("INSERT INTO accounts (email) VALUES ('bulk@example.test') RETURNING id")
    ).rows[0]!.id;
    await db.query("INSERT INTO locations (id, account_id) SELECT 'bulk-' || g, $1 FROM generate_series(1, 200) g", [
      account,
    ]);
    await db.query(
      "INSERT INTO analysis_results (location_id, workflow_id, workflow_version, health_score, issues_found, tier, created_at) SELECT 'bulk-' || (g % 200 + 1), 'wf', 1, 50, 0, 'free', now() - make_interval(mins => g % 9000) FROM generate_series(1, 60000) g",
    );
    await db.query('ANALYZE');
    const { rows: plan } = await db.query(`EXPLAIN (FORMAT JSON) ${PURGE_BATCH_SQL}`, [1000]);
    expect(JSON.stringify(plan)).toMatch(/idx_analysis_results_location_(created|workflow|id)/);
    const scans: string[] = [];
    const walk = (node: unknown): void => {
      if (Array.isArray(node)) return node.forEach(walk);
      if (!node || typeof node !== 'object') return;
      const n = node as Record<string, unknown>;
      if (n['Relation Name'] === 'analysis_results') scans.push(`${n['Node Type']}:${n['Index Name'] ?? ''}`);
      Object.values(n).forEach(walk);
    };
    walk(plan);
    expect(scans.length).toBeGreaterThan(0);
    expect(scans.filter((s) => s.startsWith('Seq Scan'))).toEqual([]);
  });

  it('purges processed Stripe events past the audit window, never unprocessed ones', async () => {
    const insert = (id: string, daysAgo: number, processed: boolean) =>
      db.query(
        "INSERT INTO stripe_events (id, event_type, created_at, processed_at, payload) VALUES ($1, 'invoice.paid', now() - make_interval(days => $2), CASE WHEN $3 THEN now() END, '{}')",
        [id, daysAgo, processed],
      );
    await insert('evt_old_done', 40, true);
    await insert('evt_old_done_2', 31, true);
    await insert('evt_old_pending', 40, false);
    await insert('evt_recent', 2, true);
    expect(await purgeProcessedEvents(db, { batchSize: 1 })).toBe(2);
    const { rows } = await db.query<{ id: string }>('SELECT id FROM stripe_events ORDER BY id');
    expect(rows.map((r) => r.id)).toEqual(['evt_old_pending', 'evt_recent']);
    await expect(purgeProcessedEvents(db, { eventRetentionDays: 2 })).rejects.toThrow(RangeError);
  });

  it('runs on an interval and stops cleanly', async () => {
    await rows('loc-free', [30, 31]);
    const job = startRetentionJob(db, { intervalMs: 50, logger });
    const deadline = Date.now() + 10_000;
    while ((await ages('loc-free')).length > 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
    await job.stop();
    expect(await ages('loc-free')).toEqual([0, 1, 6]);
    expect(logs.text()).toContain('expired analysis history purged');
  });
});
