import { effectiveTierSql, retentionCutoffSql } from '../billing/tiers.js';
import type { Database, Queryable } from '../../db/database.js';

// Every query over analysis_results that the workflow feature runs (the billing feature's retention purge and usage
// count read the table too: src/features/billing/retention.ts and billing.ts).

/** The columns the workflow service reads back from one stored analysis. */
const SERVICE_COLUMNS = `id::text AS id, workflow_id, workflow_version, health_score, issues_found, findings, tier, analyzer_version, created_at`;

/** Stores one analysis ($1 location, $2 workflow, $3 version, $4 score, $5 issue count, $6 findings, $7 tier, $8 analyzer, $9 ms). */
export const INSERT_ANALYSIS_SQL = `INSERT INTO analysis_results (location_id, workflow_id, workflow_version, health_score, issues_found, findings, tier, analyzer_version, duration_ms)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING ${SERVICE_COLUMNS}`;

/** One analysis by id ($1) of a location ($2), within a retention of $3 days (NULL: unlimited). */
export const ANALYSIS_BY_ID_SQL = `SELECT ${SERVICE_COLUMNS} FROM analysis_results WHERE id = $1 AND location_id = $2 AND ($3::int IS NULL OR created_at >= now() - $3 * interval '1 day')`;

/** A page of a location's history, newest first, keyset-paginated on (created_at, id). */
export const ANALYSIS_PAGE_SQL = `SELECT id::text AS id, workflow_id, workflow_version, health_score, issues_found, tier, created_at, created_at::text AS cursor_ts
           FROM analysis_results
          WHERE location_id = $1
            AND ($2::text IS NULL OR workflow_id = $2)
            AND ($3::timestamptz IS NULL OR created_at >= $3)
            AND ($4::timestamptz IS NULL OR created_at < $4)
            AND ($5::int IS NULL OR health_score >= $5)
            AND ($6::int IS NULL OR created_at >= now() - $6 * interval '1 day')
            AND ($7::timestamptz IS NULL OR (created_at, id) < ($7::timestamptz, $8::bigint))
          ORDER BY created_at DESC, id DESC
          LIMIT $9`;

/** The analysis a job already stored for this location, workflow and version since it was queued (a re-run reuses it). */
export async function analysisStoredSince(
  db: Queryable,
  job: { locationId: string; workflowId: string; version: number },
  since: Date,
): Promise<string | undefined> {
  const { rows } = await db.query<{ id: string }>(
    'SELECT id::text AS id FROM analysis_results WHERE location_id = $1 AND workflow_id = $2 AND workflow_version = $3 AND created_at >= $4 ORDER BY id LIMIT 1',
    [job.locationId, job.workflowId, job.version, since],
  );
  return rows[0]?.id;
}

/** The (workflow, version) pairs of a location that the analyzer `analyzerVersion` has analysed. */
export async function analysedVersions(
  db: Queryable,
  locationId: string,
  analyzerVersion: string,
): Promise<{ workflow_id: string; workflow_version: number }[]> {
  const { rows } = await db.query<{ workflow_id: string; workflow_version: number }>(
    'SELECT DISTINCT workflow_id, workflow_version FROM analysis_results WHERE location_id = $1 AND analyzer_version = $2',
    [locationId, analyzerVersion],
  );
  return rows;
}

/** One stored analysis, as the API returns it. */
export interface AnalysisRow {
  id: string;
  locationId: string;
  workflowId: string;
  workflowVersion: number;
  healthScore: number;
  issuesFound: number;
  tier: string;
  createdAt: string;
  findings?: unknown;
}

const COLUMNS = `id::text AS "id", location_id AS "locationId", workflow_id AS "workflowId", workflow_version AS "workflowVersion",
  health_score AS "healthScore", issues_found AS "issuesFound", tier, created_at AS "createdAt"`;

/**
 * Rows older than the location's retention (billing/tiers.ts) are invisible at once, before the purge job deletes
 * them. A WHERE fragment over analysis_results for queries whose `$1` is the location id.
 */
export const WITHIN_RETENTION = `created_at >= ${retentionCutoffSql(`COALESCE((SELECT ${effectiveTierSql('sc')} FROM stripe_customers sc WHERE sc.location_id = $1), 'free')`)}`;

/** SQL of the history query (newest first), exported so the index test EXPLAINs exactly what the route runs. */
export const HISTORY_SQL = `SELECT ${COLUMNS} FROM analysis_results WHERE location_id = $1
  AND ${WITHIN_RETENTION}
  ORDER BY created_at DESC LIMIT $2`;
/** SQL of the latest analysis of one workflow. */
export const LATEST_ANALYSIS_SQL = `SELECT ${COLUMNS}, findings FROM analysis_results WHERE location_id = $1 AND workflow_id = $2
  AND ${WITHIN_RETENTION}
  ORDER BY created_at DESC LIMIT 1`;

export async function analysisHistory(
  db: Pick<Database, 'read'>,
  locationId: string,
  limit: number,
): Promise<AnalysisRow[]> {
  const { rows } = await db.read(HISTORY_SQL, [locationId, limit]);
  return rows as AnalysisRow[];
}

export async function latestAnalysis(
  db: Pick<Database, 'read'>,
  locationId: string,
  workflowId: string,
): Promise<AnalysisRow | undefined> {
  const { rows } = await db.read(LATEST_ANALYSIS_SQL, [locationId, workflowId]);
  return rows[0] as AnalysisRow | undefined;
}
