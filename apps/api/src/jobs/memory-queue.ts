import { batchOperations, type BatchRecord } from './batch.js';
import { PermanentJobError, QueueError } from './errors.js';
import {
  analysisJobId,
  assertCronPattern,
  backoffDelay,
  clampProgress,
  jobListeners,
  nextRun,
  reportAttempt,
  resolveQueueOptions,
} from './options.js';
import type { AnalysisJobData, AnalysisQueue, AnalysisQueueOptions, AuditSchedule, JobSnapshot } from './types.js';

/** setTimeout's longest delay; a later run is reached in several hops. */
const MAX_TIMER_MS = 2 ** 31 - 1;

interface MemoryJob {
  snapshot: JobSnapshot;
  finishedAtMs?: number;
}

/**
 * The in-process queue used without Redis (embedded defaults): same ids, retries, backoff and kept failures as the
 * BullMQ queue, so the API behaves the same. Jobs live in this process only; a restart forgets them.
 */
export function createMemoryAnalysisQueue(options: AnalysisQueueOptions = {}): AnalysisQueue {
  const opts = resolveQueueOptions(options);
  const { processor } = opts;
  if (!processor)
    throw new QueueError('QUEUE_INVALID_OPTIONS', 'the in-process queue needs a processor: it runs its own jobs');
  const jobs = new Map<string, MemoryJob>();
  const ready: string[] = [];
  const timers = new Set<NodeJS.Timeout>();
  const running = new Set<Promise<void>>();
  const batches = new Map<string, BatchRecord>();
  const schedules = new Map<string, { pattern: string; timeZone: string; next: Date; timer?: NodeJS.Timeout }>();
  let active = 0;
  let closed = false;
  const listeners = jobListeners();
  const notify = listeners.notify;

  // A scan of every job and batch: at most once per second (sooner for short retention), not once per read, so that
  // reading a batch of 500 children is not 500 scans.
  let lastDrop = 0;
  const dropExpired = () => {
    const now = Date.now();
    if (now - lastDrop < Math.min(1_000, opts.keepCompletedMs / 4)) return;
    lastDrop = now;
    // Batch records live as long as completed jobs (as their Redis keys do with BullMQ).
    for (const [id, record] of batches)
      if (now - Date.parse(record.createdAt) > Math.max(opts.keepCompletedMs, 60_000)) batches.delete(id);
    for (const [id, job] of jobs) {
      if (
        job.snapshot.status === 'completed' &&
        job.finishedAtMs !== undefined &&
        now - job.finishedAtMs > opts.keepCompletedMs
      )
        jobs.delete(id);
    }
  };

  const pump = () => {
    while (!closed && active < opts.concurrency && ready.length > 0) {
      const job = jobs.get(ready.shift()!);
      if (!job) continue;
      active += 1;
      const run = runJob(job).finally(() => {
        active -= 1;
        running.delete(run);
        pump();
      });
      running.add(run);
    }
  };

  async function runJob(job: MemoryJob): Promise<void> {
    const s = job.snapshot;
    s.status = 'active';
    notify(s.id);
    const attempt = s.attemptsMade + 1;
    const started = performance.now();
    try {
      const result = await processor!(
        { locationId: s.locationId, workflowId: s.workflowId, version: s.version },
        {
          attempt,
          queuedAt: Date.parse(s.createdAt),
          progress: async (percent) => {
            const value = Math.max(s.progress, clampProgress(percent));
            if (value === s.progress) return;
            s.progress = value;
            notify(s.id);
          },
        },
      );
      // A structured-clone copy, as BullMQ returns the JSON it stored: callers never share the processor's object.
      s.result = result === undefined ? null : JSON.parse(JSON.stringify(result));
      s.status = 'completed';
      s.progress = 100;
      s.error = null;
      reportAttempt(opts.onAttempt, { outcome: 'completed', attempt, durationMs: performance.now() - started });
    } catch (error) {
      s.error = error instanceof Error ? error.message : String(error);
      const retry = !(error instanceof PermanentJobError) && attempt < opts.attempts && !closed;
      reportAttempt(opts.onAttempt, {
        outcome: retry ? 'retry' : 'failed',
        attempt,
        durationMs: performance.now() - started,
      });
      if (retry) {
        s.attemptsMade = attempt;
        s.status = 'delayed';
        const timer = setTimeout(
          () => {
            timers.delete(timer);
            s.status = 'queued';
            ready.push(s.id);
            notify(s.id);
            pump();
          },
          backoffDelay(opts.backoffMs, attempt),
        );
        timers.add(timer);
        notify(s.id);
        return;
      }
      s.status = 'failed';
    }
    s.attemptsMade = attempt;
    job.finishedAtMs = Date.now();
    s.finishedAt = new Date(job.finishedAtMs).toISOString();
    notify(s.id);
  }

  // Scheduled audits in this process: one timer per location, armed for its next run. An audit that fails is not
  // retried here (the next run covers it); audits never overlap for one location.
  const auditing = new Set<string>();
  const arm = (locationId: string) => {
    const schedule = schedules.get(locationId);
    if (!schedule || closed) return;
    clearTimeout(schedule.timer);
    const delay = schedule.next.getTime() - Date.now();
    schedule.timer = setTimeout(
      () => {
        if (schedules.get(locationId) !== schedule) return;
        if (Date.now() < schedule.next.getTime()) return arm(locationId);
        schedule.next = nextRun(schedule.pattern, schedule.timeZone);
        arm(locationId);
        if (!opts.auditor || auditing.has(locationId)) return;
        auditing.add(locationId);
        const run = opts
          .auditor({ locationId })
          .catch(() => undefined)
          .then(() => {
            auditing.delete(locationId);
            running.delete(run);
          });
        running.add(run);
      },
      Math.max(0, Math.min(delay, MAX_TIMER_MS)),
    );
    schedule.timer.unref();
  };

  const scheduleView = (locationId: string): AuditSchedule | undefined => {
    const s = schedules.get(locationId);
    return s && { locationId, pattern: s.pattern, timeZone: s.timeZone, next: s.next.toISOString() };
  };

  const self: AnalysisQueue = {
    kind: 'memory',
    async scheduleAudit(locationId, pattern, timeZone = 'UTC') {
      assertCronPattern(pattern, timeZone);
      if (closed) throw new QueueError('QUEUE_CLOSED', 'the analysis queue is closed');
      clearTimeout(schedules.get(locationId)?.timer);
      schedules.set(locationId, { pattern, timeZone, next: nextRun(pattern, timeZone) });
      arm(locationId);
    },
    async unscheduleAudit(locationId) {
      const schedule = schedules.get(locationId);
      clearTimeout(schedule?.timer);
      return schedules.delete(locationId);
    },
    async auditSchedules(): Promise<AuditSchedule[]> {
      return [...schedules.keys()].map((locationId) => scheduleView(locationId)!);
    },
    async auditSchedule(locationId) {
      return scheduleView(locationId);
    },
    createBatch: (locationId, items) => batch.createBatch(locationId, items),
    getBatch: (batchId) => {
      dropExpired();
      return batch.getBatch(batchId);
    },
    async enqueue(data: AnalysisJobData) {
      if (closed) throw new QueueError('QUEUE_CLOSED', 'the analysis queue is closed');
      dropExpired();
      const id = analysisJobId(data);
      if (jobs.has(id)) return { jobId: id, duplicate: true };
      jobs.set(id, {
        snapshot: {
          id,
          ...data,
          status: 'queued',
          progress: 0,
          attemptsMade: 0,
          result: null,
          error: null,
          createdAt: new Date().toISOString(),
          finishedAt: null,
        },
      });
      ready.push(id);
      queueMicrotask(pump);
      return { jobId: id, duplicate: false };
    },
    async counts() {
      dropExpired();
      const counts = { queued: 0, active: 0, delayed: 0, completed: 0, failed: 0 };
      for (const job of jobs.values()) counts[job.snapshot.status] += 1;
      return counts;
    },
    async get(jobId) {
      dropExpired();
      const job = jobs.get(jobId);
      return job ? structuredClone(job.snapshot) : undefined;
    },
    watch: (listener) => listeners.add(listener),
    async close() {
      closed = true;
      listeners.clear();
      for (const schedule of schedules.values()) clearTimeout(schedule.timer);
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      await Promise.allSettled([...running]);
    },
  };
  const batch = batchOperations(
    { save: async (r) => void batches.set(r.id, r), load: async (id) => batches.get(id) },
    {
      enqueueAll: (data) => Promise.all(data.map(async (d) => (await self.enqueue(d)).jobId)),
      get: (id) => self.get(id),
    },
  );
  return self;
}
