import {
  Job,
  Queue,
  QueueEvents,
  UnrecoverableError,
  Worker,
  type ConnectionOptions,
  type JobSchedulerJson,
} from 'bullmq';
import { Redis } from 'ioredis';
import { batchOperations, type BatchRecord } from './batch.js';
import { PermanentJobError, QueueError } from './errors.js';
import {
  analysisJobId,
  assertCronPattern,
  auditSchedulerId,
  clampProgress,
  jobListeners,
  locationOfAuditScheduler,
  reportAttempt,
  resolveQueueOptions,
} from './options.js';
import type {
  AnalysisJobData,
  AnalysisQueue,
  AnalysisQueueOptions,
  AuditJobData,
  AuditSchedule,
  JobSnapshot,
  JobStatus,
} from './types.js';

/** Jobs of the queue: `analyze` (one workflow version) and `audit` (a location's scheduled audit). */
type QueueJobData = AnalysisJobData | AuditJobData;

/** The BullMQ queue name of analyses. */
export const ANALYSIS_QUEUE_NAME = 'analysis';

/** Options of {@link createBullAnalysisQueue}. */
export interface BullAnalysisQueueOptions extends AnalysisQueueOptions {
  /** `redis://` URL (REDIS_URL). */
  redisUrl: string;
  /** BullMQ key prefix (tests isolate themselves with their own). @default 'bull' */
  prefix?: string;
  /** How often a worker looks for jobs whose worker died (stalled), and how long a job's lock lives. @default 30000 */
  stalledIntervalMs?: number;
  /** How many times a job may stall (its worker crashed) before it fails. @default 2 */
  maxStalledCount?: number;
}

/** ioredis options from a URL; BullMQ needs `maxRetriesPerRequest: null` on blocking connections. */
export function redisConnection(url: string): ConnectionOptions {
  const u = new URL(url);
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:')
    throw new QueueError('QUEUE_INVALID_OPTIONS', 'redisUrl must be a redis:// or rediss:// URL');
  const db = u.pathname.length > 1 ? Number(u.pathname.slice(1)) : 0;
  return {
    host: u.hostname || '127.0.0.1',
    port: u.port ? Number(u.port) : 6379,
    db: Number.isInteger(db) ? db : 0,
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    ...(u.protocol === 'rediss:' ? { tls: {} } : {}),
    maxRetriesPerRequest: null,
  };
}

const STATUS: Record<string, JobStatus> = {
  waiting: 'queued',
  prioritized: 'queued',
  'waiting-children': 'queued',
  active: 'active',
  delayed: 'delayed',
  completed: 'completed',
  failed: 'failed',
};

/**
 * The BullMQ queue `analysis`: deterministic job ids (one job per location, workflow and version), exponential
 * backoff, failed jobs kept, completed jobs kept `keepCompletedMs`. With a processor it also runs a Worker (the
 * `worker` and `all` roles); stalled jobs of a crashed worker are taken over by the others.
 */
export function createBullAnalysisQueue(
  options: BullAnalysisQueueOptions,
): AnalysisQueue & { readonly queue: Queue; readonly worker: Worker | undefined } {
  const opts = resolveQueueOptions(options);
  const connection = redisConnection(options.redisUrl);
  const prefix = options.prefix ?? 'bull';
  const stalledInterval = options.stalledIntervalMs ?? 30_000;
  const queue = new Queue<QueueJobData>(ANALYSIS_QUEUE_NAME, {
    connection,
    prefix,
    defaultJobOptions: {
      attempts: opts.attempts,
      backoff: { type: 'exponential', delay: opts.backoffMs },
      removeOnComplete: { age: Math.ceil(opts.keepCompletedMs / 1000) },
      // Failed jobs stay for inspection (GET /jobs/:id) until removed by hand.
      removeOnFail: false,
    },
  });
  const { processor, auditor } = opts;
  const worker = processor
    ? new Worker<QueueJobData>(
        ANALYSIS_QUEUE_NAME,
        async (job) => {
          if (job.name === 'audit') {
            if (!auditor) throw new UnrecoverableError('this worker runs no audits');
            return auditor({ locationId: job.data.locationId });
          }
          const data = job.data as AnalysisJobData;
          let reported = 0;
          const started = performance.now();
          const attempt = job.attemptsMade + 1;
          try {
            const result = await processor(data, {
              attempt: job.attemptsMade + 1,
              queuedAt: job.timestamp,
              progress: async (percent) => {
                const value = clampProgress(percent);
                if (value <= reported) return;
                reported = value;
                await job.updateProgress(value);
              },
            });
            reportAttempt(opts.onAttempt, { outcome: 'completed', attempt, durationMs: performance.now() - started });
            return result;
          } catch (error) {
            const permanent = error instanceof PermanentJobError;
            reportAttempt(opts.onAttempt, {
              outcome: !permanent && attempt < opts.attempts ? 'retry' : 'failed',
              attempt,
              durationMs: performance.now() - started,
            });
            if (permanent) throw new UnrecoverableError(error.message);
            throw error;
          }
        },
        {
          connection,
          prefix,
          concurrency: opts.concurrency,
          lockDuration: stalledInterval,
          stalledInterval,
          maxStalledCount: options.maxStalledCount ?? 2,
        },
      )
    : undefined;
  // Errors of the blocking connection are retried by BullMQ; without a listener Node would crash on them.
  worker?.on('error', () => undefined);
  queue.on('error', () => undefined);

  // The state is read before the job's fields: a job seen `failed`/`completed` then carries its final reason and result.
  const snapshot = (job: Job<QueueJobData>, state: string): JobSnapshot | undefined => {
    if (job.name !== 'analyze') return undefined;
    const data = job.data as AnalysisJobData;
    const status = STATUS[state] ?? 'queued';
    return {
      id: job.id!,
      locationId: data.locationId,
      workflowId: data.workflowId,
      version: data.version,
      status,
      progress: status === 'completed' ? 100 : typeof job.progress === 'number' ? job.progress : 0,
      attemptsMade: job.attemptsMade,
      result: status === 'completed' ? (job.returnvalue ?? null) : null,
      error: job.failedReason || null,
      createdAt: new Date(job.timestamp).toISOString(),
      finishedAt: job.finishedOn ? new Date(job.finishedOn).toISOString() : null,
    };
  };

  const scheduleView = (s: JobSchedulerJson): AuditSchedule | undefined => {
    const locationId = locationOfAuditScheduler(s.key);
    return locationId === undefined || !s.pattern
      ? undefined
      : {
          locationId,
          pattern: s.pattern,
          timeZone: s.tz ?? 'UTC',
          next: s.next ? new Date(s.next).toISOString() : null,
        };
  };

  // Job events (progress, state changes) of every process, read from BullMQ's event stream by one blocking connection,
  // opened when the first listener arrives (only processes that stream job progress pay for it).
  const listeners = jobListeners();
  let events: QueueEvents | undefined;
  const openEvents = () => {
    events = new QueueEvents(ANALYSIS_QUEUE_NAME, { connection, prefix });
    events.on('error', () => undefined);
    for (const name of ['progress', 'active', 'completed', 'failed', 'delayed', 'waiting'] as const)
      events.on(name, ({ jobId }: { jobId: string }) => listeners.notify(jobId));
  };

  // Batch records are plain keys next to the queue's, through a client of our own (BullMQ's exposes few commands).
  const records = new Redis(options.redisUrl, { maxRetriesPerRequest: 3, lazyConnect: true });
  records.on('error', () => undefined);
  const batchKey = (id: string) => `${prefix}:${ANALYSIS_QUEUE_NAME}:batch:${id}`;
  const batch = batchOperations(
    {
      async save(record) {
        await records.set(batchKey(record.id), JSON.stringify(record), 'PX', Math.max(opts.keepCompletedMs, 60_000));
      },
      async load(id) {
        const raw = await records.get(batchKey(id));
        return raw ? (JSON.parse(raw) as BatchRecord) : undefined;
      },
    },
    {
      // `addBulk` skips the ids that exist, like `add`: one round trip for the whole batch.
      async enqueueAll(data) {
        const jobIds = data.map(analysisJobId);
        await queue.addBulk(data.map((d, i) => ({ name: 'analyze', data: d, opts: { jobId: jobIds[i] } })));
        return jobIds;
      },
      get: (id) => self.get(id),
    },
  );
  const self = {
    kind: 'bullmq' as const,
    queue,
    worker,
    createBatch: (locationId: string, items: readonly { workflowId: string; version: number }[]) =>
      batch.createBatch(locationId, items),
    getBatch: (batchId: string) => batch.getBatch(batchId),
    async enqueue(data: AnalysisJobData) {
      const jobId = analysisJobId(data);
      // `add` with an existing id returns the existing job and queues nothing; the read before it only tells which.
      const existing = await Job.fromId(queue, jobId);
      await queue.add('analyze', data, { jobId });
      return { jobId, duplicate: existing !== undefined };
    },
    async counts() {
      const c = await queue.getJobCounts(
        'waiting',
        'prioritized',
        'waiting-children',
        'active',
        'delayed',
        'completed',
        'failed',
      );
      return {
        queued: (c.waiting ?? 0) + (c.prioritized ?? 0) + (c['waiting-children'] ?? 0),
        active: c.active ?? 0,
        delayed: c.delayed ?? 0,
        completed: c.completed ?? 0,
        failed: c.failed ?? 0,
      };
    },
    async get(jobId: string) {
      if (!/^an_[\w-]{1,64}$/.test(jobId)) return undefined;
      const state = await queue.getJobState(jobId);
      const job = await Job.fromId<QueueJobData>(queue, jobId);
      return job ? snapshot(job, state) : undefined;
    },
    async scheduleAudit(locationId: string, pattern: string, timeZone = 'UTC') {
      assertCronPattern(pattern, timeZone);
      await queue.upsertJobScheduler(
        auditSchedulerId(locationId),
        { pattern, tz: timeZone },
        // An audit only queues analyses: a failed one is retried like them, and only the recent ones are kept.
        { name: 'audit', data: { locationId }, opts: { removeOnComplete: { count: 20 }, removeOnFail: { count: 50 } } },
      );
    },
    async unscheduleAudit(locationId: string) {
      return queue.removeJobScheduler(auditSchedulerId(locationId));
    },
    async auditSchedules() {
      const schedulers = await queue.getJobSchedulers(0, -1, true);
      return schedulers.flatMap((s) => {
        const view = scheduleView(s);
        return view ? [view] : [];
      });
    },
    async auditSchedule(locationId: string) {
      const scheduler = await queue.getJobScheduler(auditSchedulerId(locationId));
      return scheduler ? scheduleView(scheduler) : undefined;
    },
    watch(listener: (jobId: string) => void) {
      if (!events) openEvents();
      return listeners.add(listener);
    },
    async close() {
      // Worker.close waits for the running jobs; a hard kill instead leaves them to stalled-job recovery.
      listeners.clear();
      await events?.close();
      await worker?.close();
      await queue.close();
      records.disconnect();
    },
  };
  return self;
}
