import { effectiveTierSql, retentionCutoffSql } from '../../billing/tiers.js';
import type { Database } from '../database.js';

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

export async function analysisHistory(db: Pick<Database, 'read'>, locationId: string, limit: number): Promise<AnalysisRow[]> {
  const { rows } = await db.read(HISTORY_SQL, [locationId, limit]);
  return rows as AnalysisRow[];
}

export async function latestAnalysis(db: Pick<Database, 'read'>, locationId: string, workflowId: string): Promise<AnalysisRow | undefined> {
  const { rows } = await db.read(LATEST_ANALYSIS_SQL, [locationId, workflowId]);
  return rows[0] as AnalysisRow | undefined;
}
