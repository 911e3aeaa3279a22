import type { Queryable } from '../db/database.js';
import type { AnalysisQueue } from './types.js';

/**
 * Makes the queue's audit schedules match the configuration: every location connected to GHL is audited on
 * `audit.cron`; with audits off, none is (a schedule left in Redis would otherwise keep firing after AUDIT_CRON is
 * unset). Idempotent, so every process that runs jobs may call it at start.
 */
export async function syncAuditSchedules(deps: {
  db: Queryable;
  queue: AnalysisQueue;
  audit: { cron: string; timeZone: string } | undefined;
}) {
  const { audit, queue } = deps;
  const { rows } = audit
    ? await deps.db.query<{ location_id: string }>('SELECT location_id FROM ghl_oauth_tokens ORDER BY location_id')
    : { rows: [] };
  const wanted = new Set(rows.map((r) => r.location_id));
  let removed = 0;
  for (const schedule of await queue.auditSchedules()) {
    if (wanted.has(schedule.locationId)) continue;
    if (await queue.unscheduleAudit(schedule.locationId)) removed += 1;
  }
  for (const locationId of wanted) await queue.scheduleAudit(locationId, audit!.cron, audit!.timeZone);
  return { scheduled: wanted.size, removed };
}
