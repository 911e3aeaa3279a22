import { readdirSync } from 'node:fs';
import { hasSharedPostgres, sharedPostgres, type SharedPostgres } from '@org/test-services';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MIGRATIONS_DIR, appliedMigrations, migrate } from '../../src/db/migrations.js';
import { HISTORY_SQL, LATEST_ANALYSIS_SQL } from '../../src/features/workflows/queries.js';
import { ACTIVE_SUBSCRIPTION_SQL } from '../../src/features/billing/queries.js';

const pgUp = await hasSharedPostgres();
// Every migration file in order (001-003 and whatever later issues add), so new migrations do not break this test.
const ALL = readdirSync(MIGRATIONS_DIR)
  .filter((f) => f.endsWith('.sql'))
  .map((f) => f.slice(0, -4))
  .sort();

/** Every index named anywhere in an EXPLAIN (FORMAT JSON) plan. */
function indexesIn(plan: unknown): string[] {
  const found: string[] = [];
  const walk = (node: unknown) => {
    if (Array.isArray(node)) node.forEach(walk);
    else if (node && typeof node === 'object') {
      for (const [key, value] of Object.entries(node)) {
        if (key === 'Index Name' && typeof value === 'string') found.push(value);
        else walk(value);
      }
    }
  };
  walk(plan);
  return found;
}

describe.skipIf(!pgUp)('migrations (shared PostgreSQL)', () => {
  let pg: SharedPostgres;
  beforeAll(async () => {
    pg = await sharedPostgres('api_migrations');
  });
  afterAll(async () => {
    await pg?.cleanup();
  });

  it('runs up, down and up again cleanly, and a second up is a no-op', async () => {
    expect(await migrate({ url: pg.url })).toEqual(ALL);
    expect(await migrate({ url: pg.url })).toEqual([]);
    expect(await migrate({ url: pg.url, direction: 'down', count: Infinity })).toEqual([...ALL].reverse());
    const leftover = await pg.pool.query(
      "SELECT count(*)::int AS n FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND c.relname <> 'pgmigrations' AND c.relkind IN ('r', 'i', 'v') AND c.relname NOT LIKE 'pgmigrations%'",
    );
    expect(leftover.rows[0].n).toBe(0);
    expect(await migrate({ url: pg.url })).toEqual(ALL);
    expect(await appliedMigrations(pg.pool)).toEqual(ALL);
  });

  it('is safe when two instances migrate at once (advisory lock: one applies, the other waits and finds nothing)', async () => {
    const fresh = await sharedPostgres('api_migrations_race');
    try {
      const [a, b] = await Promise.all([migrate({ url: fresh.url }), migrate({ url: fresh.url })]);
      expect([...a, ...b].sort()).toEqual(ALL);
      const { rows } = await fresh.pool.query('SELECT count(*)::int AS n FROM pgmigrations');
      expect(rows[0].n).toBe(ALL.length);
    } finally {
      await fresh.cleanup();
    }
  });

  it('creates every index of 003 by name, the partial ones with constant predicates, and the usage view', async () => {
    const { rows } = await pg.pool.query<{ indexname: string; indexdef: string }>(
      "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'",
    );
    const names = rows.map((r) => r.indexname);
    for (const name of [
      'idx_analysis_results_location_id',
      'idx_analysis_results_workflow_id',
      'idx_analysis_results_location_workflow',
      'idx_analysis_results_created_at',
      'idx_analysis_results_location_created',
      'idx_analysis_results_health_score',
      'idx_analysis_results_recent',
      'idx_stripe_customers_location_id',
      'idx_stripe_customers_customer_id',
      'idx_stripe_customers_status',
      'idx_stripe_customers_active_subs',
      'idx_stripe_events_event_type',
      'idx_stripe_events_created_at',
      'idx_stripe_events_type_processed',
    ]) {
      expect(names).toContain(name);
    }
    const def = (name: string) => rows.find((r) => r.indexname === name)!.indexdef;
    expect(def('idx_analysis_results_recent')).toMatch(
      /WHERE \(created_at >= '\d{4}-\d\d-\d\d[^']*'::timestamp with time zone\)/,
    );
    expect(def('idx_stripe_customers_active_subs')).toContain("WHERE (status = 'active'::text)");
    expect(def('idx_stripe_events_type_processed')).toContain('WHERE (processed_at IS NULL)');
    const view = await pg.pool.query('SELECT index_name, scans FROM index_usage_stats');
    expect(view.rows.map((r: { index_name: string }) => r.index_name)).toContain('idx_analysis_results_recent');
    const cutoff = await pg.pool.query<{ c: Date }>('SELECT refresh_idx_analysis_results_recent(30) AS c');
    expect(Date.now() - cutoff.rows[0]!.c.getTime()).toBeGreaterThan(29 * 86_400_000);
  });

  it('enforces health score 0-100 and issues found >= 0', async () => {
    await pg.pool.query(
      "INSERT INTO accounts (id, email) VALUES ('00000000-0000-0000-0000-000000000001', 'c@example.test')",
    );
    await pg.pool.query(
      "INSERT INTO locations (id, account_id) VALUES ('loc-c', '00000000-0000-0000-0000-000000000001')",
    );
    const insert = (score: number, issues: number) =>
      pg.pool.query(
        "INSERT INTO analysis_results (location_id, workflow_id, workflow_version, health_score, issues_found, tier) VALUES ('loc-c', 'w', 1, $1, $2, 'free')",
        [score, issues],
      );
    await expect(insert(101, 0)).rejects.toMatchObject({
      code: '23514',
      constraint: 'chk_analysis_results_health_score',
    });
    await expect(insert(-1, 0)).rejects.toMatchObject({ code: '23514' });
    await expect(insert(50, -1)).rejects.toMatchObject({
      code: '23514',
      constraint: 'chk_analysis_results_issues_found',
    });
    await expect(insert(100, 0)).resolves.toBeDefined();
  });

  it('serves the history, analysis-lookup and subscription-check queries from their indexes', async () => {
    // Enough rows that a sequential scan loses: 200 locations x 100 analyses, 4,000 customers of which 1 in 4 active.
    await pg.pool.query(`
      INSERT INTO accounts (id, email) SELECT ('00000000-0000-0000-0001-' || lpad(i::text, 12, '0'))::uuid, 'a' || i || '@example.test' FROM generate_series(1, 4000) i;
      INSERT INTO locations (id, account_id) SELECT 'loc-' || i, ('00000000-0000-0000-0001-' || lpad(i::text, 12, '0'))::uuid FROM generate_series(1, 4000) i;
      INSERT INTO analysis_results (location_id, workflow_id, workflow_version, health_score, issues_found, tier, findings, created_at)
        SELECT 'loc-' || (i % 200 + 1), 'wf-' || (i % 37), 1, i % 101, i % 7, 'pro', '[]', now() - (i || ' minutes')::interval
        FROM generate_series(1, 20000) i;
      INSERT INTO stripe_customers (location_id, customer_id, status, tier)
        SELECT 'loc-' || i, 'cus_' || i, CASE WHEN i % 4 = 0 THEN 'active' ELSE 'canceled' END, CASE WHEN i % 4 = 0 THEN 'pro' ELSE 'free' END
        FROM generate_series(1, 4000) i;
      ANALYZE;
    `);
    const explain = async (sql: string, params: unknown[]) => {
      const { rows } = await pg.pool.query(`EXPLAIN (FORMAT JSON) ${sql}`, params);
      return indexesIn(rows[0]['QUERY PLAN']);
    };
    expect(await explain(HISTORY_SQL, ['loc-7', 20])).toContain('idx_analysis_results_location_created');
    expect(await explain(LATEST_ANALYSIS_SQL, ['loc-7', 'wf-3'])).toContain('idx_analysis_results_location_workflow');
    expect(await explain(ACTIVE_SUBSCRIPTION_SQL, ['loc-8'])).toContain('idx_stripe_customers_active_subs');
  });
});
