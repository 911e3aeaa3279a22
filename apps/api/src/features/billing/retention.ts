import type { Logger } from 'pino';
import type { Database } from '../../db/database.js';
import { effectiveTierSql, retentionCutoffSql } from './tiers.js';

/**
 * One batch: per location, the oldest rows beyond its tier's retention, found through
 * idx_analysis_results_location_created. SKIP LOCKED lets several instances purge at once without waiting on (or
 * double-deleting) each other's rows.
 */
export const PURGE_BATCH_SQL = `WITH horizon AS (
    SELECT l.id AS location_id, ${retentionCutoffSql(`COALESCE(${effectiveTierSql('sc')}, 'free')`)} AS cutoff
    FROM locations l LEFT JOIN stripe_customers sc ON sc.location_id = l.id
  ), victims AS (
    SELECT v.id FROM horizon h CROSS JOIN LATERAL (
      SELECT a.id FROM analysis_results a WHERE a.location_id = h.location_id AND a.created_at < h.cutoff
      ORDER BY a.created_at LIMIT $1 FOR UPDATE SKIP LOCKED
    ) v LIMIT $1
  )
  DELETE FROM analysis_results WHERE id IN (SELECT id FROM victims)`;

/**
 * Processed Stripe events older than the audit window, oldest first through idx_stripe_events_created_at. Stripe
 * stops retrying after 3 days, and a replay older than the window is still harmless: the per-customer
 * last_event_created_at marks it stale.
 */
export const PURGE_EVENTS_SQL = `DELETE FROM stripe_events WHERE id IN (
    SELECT id FROM stripe_events WHERE created_at < now() - make_interval(days => $2) AND processed_at IS NOT NULL
    ORDER BY created_at LIMIT $1 FOR UPDATE SKIP LOCKED)`;

export interface PurgeOptions {
  /** Rows deleted per statement (short transactions, short locks). @default 1000 */
  batchSize?: number;
  /** Stop after this many batches in one run (the next run continues). @default 100 */
  maxBatches?: number;
  /** Days processed Stripe events are kept for audit. @default 30 */
  eventRetentionDays?: number;
}

/** Deletes analysis history beyond each location's retention; returns the number of rows deleted. */
export async function purgeExpiredHistory(db: Pick<Database, 'query'>, options: PurgeOptions = {}): Promise<number> {
  const batchSize = options.batchSize ?? 1000;
  const maxBatches = options.maxBatches ?? 100;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new RangeError('batchSize must be a positive integer');
  let total = 0;
  for (let i = 0; i < maxBatches; i++) {
    const { rowCount } = await db.query(PURGE_BATCH_SQL, [batchSize]);
    total += rowCount ?? 0;
    if ((rowCount ?? 0) < batchSize) break;
  }
  return total;
}

/** Deletes processed Stripe events older than `eventRetentionDays`; returns the number deleted. */
export async function purgeProcessedEvents(db: Pick<Database, 'query'>, options: PurgeOptions = {}): Promise<number> {
  const batchSize = options.batchSize ?? 1000;
  const days = options.eventRetentionDays ?? 30;
  if (!Number.isInteger(days) || days < 4)
    throw new RangeError('eventRetentionDays must be an integer >= 4 (Stripe retries for 3 days)');
  let total = 0;
  for (let i = 0; i < (options.maxBatches ?? 100); i++) {
    const { rowCount } = await db.query(PURGE_EVENTS_SQL, [batchSize, days]);
    total += rowCount ?? 0;
    if ((rowCount ?? 0) < batchSize) break;
  }
  return total;
}

/** Runs the purge every `intervalMs` (first run after one interval); stop() waits for a run in progress. */
export function startRetentionJob(
  db: Pick<Database, 'query'>,
  options: PurgeOptions & { intervalMs: number; logger: Logger },
): { stop(): Promise<void> } {
  let running: Promise<void> | undefined;
  const timer = setInterval(() => {
    if (running) return;
    running = purgeExpiredHistory(db, options)
      .then(async (deleted) => {
        if (deleted > 0) options.logger.info({ deleted }, 'retention: expired analysis history purged');
        const events = await purgeProcessedEvents(db, options);
        if (events > 0) options.logger.info({ deleted: events }, 'retention: old processed stripe events purged');
      })
      .catch((error: unknown) =>
        options.logger.warn({ err: error }, 'retention purge failed; retrying at the next interval'),
      )
      .finally(() => (running = undefined));
  }, options.intervalMs);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
