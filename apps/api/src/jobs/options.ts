import cronParser from 'cron-parser';
import { createHash } from 'node:crypto';
import { QueueError } from './errors.js';
import type { AnalysisJobData, AnalysisQueueOptions, JobAttemptEvent, ResolvedQueueOptions } from './types.js';

/** Defaults in one place; bad values throw at construction. */
export function resolveQueueOptions(options: AnalysisQueueOptions): ResolvedQueueOptions {
  const resolved: ResolvedQueueOptions = {
    processor: options.processor,
    auditor: options.auditor,
    onAttempt: options.onAttempt,
    concurrency: options.concurrency ?? 2,
    attempts: options.attempts ?? 3,
    backoffMs: options.backoffMs ?? 1000,
    keepCompletedMs: options.keepCompletedMs ?? 86_400_000,
  };
  for (const key of ['concurrency', 'attempts'] as const) {
    if (!Number.isInteger(resolved[key]) || resolved[key] < 1)
      throw new QueueError('QUEUE_INVALID_OPTIONS', `${key} must be an integer >= 1`);
  }
  for (const key of ['backoffMs', 'keepCompletedMs'] as const) {
    if (!Number.isFinite(resolved[key]) || resolved[key] < 0)
      throw new QueueError('QUEUE_INVALID_OPTIONS', `${key} must be a number >= 0`);
  }
  return resolved;
}

/**
 * The deterministic job id of an analysis: a hash, because BullMQ refuses `:` in custom ids and ids must not let one
 * tenant guess another's jobs from their names alone (reads are tenant-checked anyway).
 */
export function analysisJobId(data: AnalysisJobData): string {
  const digest = createHash('sha256')
    .update(`${data.locationId}\u0000${data.workflowId}\u0000${data.version}`)
    .digest('base64url');
  return `an_${digest.slice(0, 32)}`;
}

/** Delay before attempt `attempt + 1` after `attempt` failed: backoff, 2 x backoff, 4 x backoff... */
export const backoffDelay = (backoffMs: number, attempt: number) => backoffMs * 2 ** (attempt - 1);

export const clampProgress = (value: number) => Math.max(0, Math.min(100, Math.round(value)));

/** Reports an attempt without ever letting a metrics hook break a job. */
export function reportAttempt(hook: ((e: JobAttemptEvent) => void) | undefined, event: JobAttemptEvent): void {
  try {
    hook?.(event);
  } catch {
    // Metrics never break a job.
  }
}

/** Cron patterns have 5 fields (minute first) or 6 (second first); anything else is refused before it is stored. */
export function assertCronPattern(pattern: string, timeZone: string): void {
  const fields = pattern.trim().split(/\s+/).length;
  let valid = fields === 5 || fields === 6;
  if (valid) {
    try {
      new Intl.DateTimeFormat('en', { timeZone });
      cronParser.parseExpression(pattern, { tz: timeZone }).next();
    } catch {
      valid = false;
    }
  }
  if (!valid)
    throw new QueueError(
      'QUEUE_INVALID_OPTIONS',
      `not a cron pattern of 5 or 6 fields in time zone ${timeZone}: ${pattern}`,
    );
}

/** The next run of a cron pattern after `from`. */
export function nextRun(pattern: string, timeZone: string, from = new Date()): Date {
  return cronParser.parseExpression(pattern, { tz: timeZone, currentDate: from }).next().toDate();
}

/** A location id as part of a scheduler id: BullMQ refuses `:` in ids of its own making. */
export const auditSchedulerId = (locationId: string) => `audit-${Buffer.from(locationId).toString('base64url')}`;
export const locationOfAuditScheduler = (id: string) =>
  id.startsWith('audit-') ? Buffer.from(id.slice('audit-'.length), 'base64url').toString() : undefined;

/** The listeners of a queue's `watch`: each hears every job id; one that throws never stops the others. */
export function jobListeners() {
  const listeners = new Set<(jobId: string) => void>();
  return {
    add(listener: (jobId: string) => void): () => void {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },
    notify(jobId: string): void {
      for (const listener of listeners) {
        try {
          listener(jobId);
        } catch {
          // A listener's failure is its own.
        }
      }
    },
    clear: () => listeners.clear(),
  };
}
