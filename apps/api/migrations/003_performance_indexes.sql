-- Up Migration
-- Plain CREATE INDEX (not CONCURRENTLY) because migrations run in a transaction and the tables are new; on a large
-- live table, build the index CONCURRENTLY by hand first: IF NOT EXISTS then makes this migration a no-op for it.

-- analysis_results: history per location, latest analysis per workflow, dashboards.
CREATE INDEX IF NOT EXISTS idx_analysis_results_location_id ON analysis_results (location_id);
CREATE INDEX IF NOT EXISTS idx_analysis_results_workflow_id ON analysis_results (workflow_id);
CREATE INDEX IF NOT EXISTS idx_analysis_results_location_workflow ON analysis_results (location_id, workflow_id, created_at DESC);
CREATE INDEX IF NOT EXISTS idx_analysis_results_created_at ON analysis_results (created_at DESC);
CREATE INDEX IF NOT EXISTS idx_analysis_results_location_created ON analysis_results (location_id, created_at DESC);
CREATE INDEX IF NOT EXISTS idx_analysis_results_health_score ON analysis_results (health_score);

-- "Last 90 days" cannot be written as `created_at > now() - interval '90 days'`: index predicates must be
-- IMMUTABLE and now() is not. The cutoff is therefore a constant computed when the index is (re)built; the function
-- below rebuilds it with a fresh cutoff and is meant to run from a periodic job (the index only grows in between,
-- it never misses recent rows). Queries use it when their own lower bound is a constant >= the cutoff.
CREATE OR REPLACE FUNCTION refresh_idx_analysis_results_recent(days integer DEFAULT 90) RETURNS timestamptz
LANGUAGE plpgsql AS $fn$
DECLARE
  cutoff timestamptz := date_trunc('day', now() - make_interval(days => days));
BEGIN
  DROP INDEX IF EXISTS idx_analysis_results_recent;
  EXECUTE format(
    'CREATE INDEX idx_analysis_results_recent ON analysis_results (location_id, created_at DESC) WHERE created_at >= %L::timestamptz',
    cutoff);
  RETURN cutoff;
END
$fn$;
SELECT refresh_idx_analysis_results_recent();

ALTER TABLE analysis_results
  ADD CONSTRAINT chk_analysis_results_health_score CHECK (health_score BETWEEN 0 AND 100),
  ADD CONSTRAINT chk_analysis_results_issues_found CHECK (issues_found >= 0);

-- stripe_customers: one customer per location, lookup by Stripe id (webhooks), subscription checks per request.
CREATE UNIQUE INDEX IF NOT EXISTS idx_stripe_customers_location_id ON stripe_customers (location_id);
CREATE UNIQUE INDEX IF NOT EXISTS idx_stripe_customers_customer_id ON stripe_customers (customer_id);
CREATE INDEX IF NOT EXISTS idx_stripe_customers_status ON stripe_customers (status);
CREATE INDEX IF NOT EXISTS idx_stripe_customers_active_subs ON stripe_customers (location_id)
  INCLUDE (tier, current_period_end) WHERE status = 'active';

-- stripe_events: audit by type and time, and the queue of events still to process.
CREATE INDEX IF NOT EXISTS idx_stripe_events_event_type ON stripe_events (event_type);
CREATE INDEX IF NOT EXISTS idx_stripe_events_created_at ON stripe_events (created_at DESC);
CREATE INDEX IF NOT EXISTS idx_stripe_events_type_processed ON stripe_events (event_type, created_at) WHERE processed_at IS NULL;

-- Which indexes earn their keep (idx_scan stays 0 for an unused one).
CREATE OR REPLACE VIEW index_usage_stats AS
SELECT
  s.schemaname AS schema_name,
  s.relname AS table_name,
  s.indexrelname AS index_name,
  s.idx_scan AS scans,
  s.idx_tup_read AS tuples_read,
  s.idx_tup_fetch AS tuples_fetched,
  pg_relation_size(s.indexrelid) AS size_bytes,
  pg_size_pretty(pg_relation_size(s.indexrelid)) AS size,
  i.indisunique AS is_unique,
  i.indpred IS NOT NULL AS is_partial
FROM pg_stat_user_indexes s
JOIN pg_index i ON i.indexrelid = s.indexrelid
ORDER BY s.idx_scan ASC, pg_relation_size(s.indexrelid) DESC;

-- Parallel scans for the analysis history and dashboards. Per table first (needs only ownership); the database-wide
-- planner settings need database ownership, which a managed database may not grant: then they are skipped, not fatal.
ALTER TABLE analysis_results SET (parallel_workers = 2);
DO $do$
BEGIN
  EXECUTE format('ALTER DATABASE %I SET max_parallel_workers_per_gather = 2', current_database());
  EXECUTE format('ALTER DATABASE %I SET parallel_setup_cost = 500', current_database());
  EXECUTE format('ALTER DATABASE %I SET parallel_tuple_cost = 0.05', current_database());
EXCEPTION WHEN insufficient_privilege THEN
  RAISE NOTICE 'parallel query settings not applied: %', SQLERRM;
END
$do$;

-- Down Migration
DO $do$
BEGIN
  EXECUTE format('ALTER DATABASE %I RESET max_parallel_workers_per_gather', current_database());
  EXECUTE format('ALTER DATABASE %I RESET parallel_setup_cost', current_database());
  EXECUTE format('ALTER DATABASE %I RESET parallel_tuple_cost', current_database());
EXCEPTION WHEN insufficient_privilege THEN
  RAISE NOTICE 'parallel query settings not reset: %', SQLERRM;
END
$do$;
ALTER TABLE analysis_results RESET (parallel_workers);
DROP VIEW IF EXISTS index_usage_stats;
DROP INDEX IF EXISTS idx_stripe_events_type_processed;
DROP INDEX IF EXISTS idx_stripe_events_created_at;
DROP INDEX IF EXISTS idx_stripe_events_event_type;
DROP INDEX IF EXISTS idx_stripe_customers_active_subs;
DROP INDEX IF EXISTS idx_stripe_customers_status;
DROP INDEX IF EXISTS idx_stripe_customers_customer_id;
DROP INDEX IF EXISTS idx_stripe_customers_location_id;
ALTER TABLE analysis_results
  DROP CONSTRAINT IF EXISTS chk_analysis_results_issues_found,
  DROP CONSTRAINT IF EXISTS chk_analysis_results_health_score;
DROP INDEX IF EXISTS idx_analysis_results_recent;
DROP FUNCTION IF EXISTS refresh_idx_analysis_results_recent(integer);
DROP INDEX IF EXISTS idx_analysis_results_health_score;
DROP INDEX IF EXISTS idx_analysis_results_location_created;
DROP INDEX IF EXISTS idx_analysis_results_created_at;
DROP INDEX IF EXISTS idx_analysis_results_location_workflow;
DROP INDEX IF EXISTS idx_analysis_results_workflow_id;
DROP INDEX IF EXISTS idx_analysis_results_location_id;
