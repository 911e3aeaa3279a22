import type { Logger } from 'pino';
import { ANALYZER_VERSION } from '../../analysis/index.js';
import type { Queryable } from '../../db/database.js';
import { analysedVersions } from './queries.js';
import type { WorkflowService } from './service.js';
import type { AnalysisQueue, AuditProcessor } from '../../jobs/types.js';

/** Options of {@link auditProcessor}. */
export interface AuditProcessorDeps {
  service: WorkflowService;
  db: Queryable;
  /** The queue the audit adds its batch to (a getter: the queue is built with this processor). */
  queue: () => AnalysisQueue;
  logger?: Logger;
}

/**
 * A location's scheduled audit: reads its workflow list afresh and queues one batch of the workflows whose current
 * version has no analysis by the current analyzer yet (new workflows, changed versions, or a new analyzer). The
 * analyses are ordinary jobs with deterministic ids, so an audit that overlaps a requested batch queues nothing twice.
 * A location that is no longer connected to GHL loses its schedule.
 */
export function auditProcessor(deps: AuditProcessorDeps): AuditProcessor {
  return async ({ locationId }) => {
    const { rows: connected } = await deps.db.query('SELECT 1 FROM ghl_oauth_tokens WHERE location_id = $1', [
      locationId,
    ]);
    if (connected.length === 0) {
      await deps.queue().unscheduleAudit(locationId);
      deps.logger?.info(
        { locationId },
        'audit skipped: the location is not connected to GHL; its schedule was removed',
      );
      return { locationId, checked: 0, queued: 0, batchId: null, skipped: 'not-connected' };
    }
    const workflows = (await deps.service.refreshWorkflows(locationId)).filter((w) => w.hasDefinition);
    const rows = await analysedVersions(deps.db, locationId, String(ANALYZER_VERSION));
    const analysed = new Set(rows.map((r) => `${r.workflow_id}\u0000${r.workflow_version}`));
    const changed = workflows
      .filter((w) => !analysed.has(`${w.id}\u0000${w.version}`))
      .map((w) => ({ workflowId: w.id, version: w.version }));
    const batch = changed.length > 0 ? await deps.queue().createBatch(locationId, changed) : undefined;
    const result = { locationId, checked: workflows.length, queued: changed.length, batchId: batch?.batchId ?? null };
    await deps.db.query(
      `INSERT INTO location_audits (location_id, ran_at, checked, queued, batch_id) VALUES ($1, now(), $2, $3, $4)
       ON CONFLICT (location_id) DO UPDATE SET ran_at = EXCLUDED.ran_at, checked = EXCLUDED.checked, queued = EXCLUDED.queued, batch_id = EXCLUDED.batch_id`,
      [locationId, result.checked, result.queued, result.batchId],
    );
    deps.logger?.info(result, 'audit done');
    return result;
  };
}

/** The location's last audit (what it looked at and queued), or null before its first. */
export async function lastAudit(
  db: Queryable,
  locationId: string,
): Promise<{ ranAt: string; checked: number; queued: number; batchId: string | null } | null> {
  const { rows } = await db.query<{ ran_at: Date; checked: number; queued: number; batch_id: string | null }>(
    'SELECT ran_at, checked, queued, batch_id FROM location_audits WHERE location_id = $1',
    [locationId],
  );
  const row = rows[0];
  return row
    ? { ranAt: row.ran_at.toISOString(), checked: row.checked, queued: row.queued, batchId: row.batch_id }
    : null;
}
