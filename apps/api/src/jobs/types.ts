/** What an analysis job needs: the job id is derived from all three, so one version is never queued twice. */
export interface AnalysisJobData {
  locationId: string;
  workflowId: string;
  version: number;
}

/** A scheduled audit job: the location whose changed workflows are to be analysed. */
export interface AuditJobData {
  locationId: string;
}

/** What one audit did: workflows looked at, analyses queued (as one batch), or why it did nothing. */
export interface AuditResult {
  locationId: string;
  checked: number;
  queued: number;
  batchId: string | null;
  /** Set when the audit did nothing on purpose (e.g. `not-connected`: the location's schedule was removed). */
  skipped?: string;
}

/** Runs one location's audit; scheduled by `scheduleAudit`, run by processes that run jobs. */
export type AuditProcessor = (data: AuditJobData) => Promise<AuditResult>;

/** One location's audit schedule. */
export interface AuditSchedule {
  locationId: string;
  pattern: string;
  timeZone: string;
  /** The next run (ISO), null when unknown. */
  next: string | null;
}

/** Handed to the processor: progress is 0-100 and only ever moves forward. */
export interface AnalysisJobContext {
  /** 1 for the first attempt. */
  attempt: number;
  /** When the job was queued (epoch ms): a re-run after a crash finds what an earlier run of this job stored. */
  queuedAt: number;
  progress(percent: number): Promise<void>;
}

/** Runs one analysis and returns its JSON-serialisable result (the stored analysis). */
export type AnalysisProcessor = (data: AnalysisJobData, context: AnalysisJobContext) => Promise<unknown>;

/** The public states of a job; BullMQ's `waiting`/`prioritized` are `queued`, a retry waiting its backoff is `delayed`. */
export type JobStatus = 'queued' | 'active' | 'delayed' | 'completed' | 'failed';

/** A job as the API reports it. */
export interface JobSnapshot {
  id: string;
  locationId: string;
  workflowId: string;
  version: number;
  status: JobStatus;
  progress: number;
  /** Attempts that ended (failed or completed). */
  attemptsMade: number;
  result: unknown;
  /** The last failure's message (also set while a retry waits), null when none. */
  error: string | null;
  createdAt: string;
  finishedAt: string | null;
}

/** Options shared by both implementations; defaults applied by {@link resolveQueueOptions}. */
export interface AnalysisQueueOptions {
  /** Runs the jobs in this process; without it the queue only enqueues and reads (the `api` role on Redis). @default none */
  processor?: AnalysisProcessor;
  /** Runs scheduled audits in this process (with `processor`: the `worker` and `all` roles). @default none */
  auditor?: AuditProcessor;
  /** Jobs run at once by this process. @default 2 */
  concurrency?: number;
  /** Attempts per job, the first included. @default 3 */
  attempts?: number;
  /** First retry delay; doubles each attempt (exponential backoff). @default 1000 */
  backoffMs?: number;
  /** Completed jobs are kept (and so not re-run for the same version) this long. @default 86400000 (24 h) */
  keepCompletedMs?: number;
  /** Called after each attempt this process ran (metrics); must not throw. @default none */
  onAttempt?: (event: JobAttemptEvent) => void;
}

/** One finished attempt: `retry` when another attempt follows, `failed` when the job failed for good. */
export interface JobAttemptEvent {
  outcome: 'completed' | 'retry' | 'failed';
  attempt: number;
  durationMs: number;
}

export type ResolvedQueueOptions = Required<Omit<AnalysisQueueOptions, 'processor' | 'onAttempt' | 'auditor'>> &
  Pick<AnalysisQueueOptions, 'processor' | 'onAttempt' | 'auditor'>;

/** The queue of analyses: BullMQ on Redis, or in-process without Redis; the API uses only this interface. */
export interface AnalysisQueue {
  readonly kind: 'bullmq' | 'memory';
  /** Queues the analysis unless a job of the same (location, workflow, version) exists; `duplicate` tells which. */
  enqueue(data: AnalysisJobData): Promise<{ jobId: string; duplicate: boolean }>;
  /** Jobs by state (queue depth), for the metrics. */
  counts(): Promise<Record<JobStatus, number>>;
  /** The job, or undefined when unknown (or removed after `keepCompletedMs`). */
  get(jobId: string): Promise<JobSnapshot | undefined>;
  /** One parent (batch) with a child analysis job per item; the children are deduplicated like `enqueue`. */
  createBatch(
    locationId: string,
    items: readonly { workflowId: string; version: number }[],
  ): Promise<{ batchId: string; jobIds: string[] }>;
  /** The batch with its children's states and the aggregated location score; undefined when unknown. */
  getBatch(batchId: string): Promise<BatchSnapshot | undefined>;
  /**
   * Audits the location on `pattern` (cron, 5 or 6 fields) in `timeZone` (default UTC): replaces an earlier schedule of
   * the location. On Redis one schedule serves every process (only one of them runs each audit).
   */
  scheduleAudit(locationId: string, pattern: string, timeZone?: string): Promise<void>;
  /** Removes the location's audit schedule; true when there was one. */
  unscheduleAudit(locationId: string): Promise<boolean>;
  /** Every audit schedule, with its next run. */
  auditSchedules(): Promise<AuditSchedule[]>;
  /** The location's audit schedule, undefined when it has none. */
  auditSchedule(locationId: string): Promise<AuditSchedule | undefined>;
  /**
   * Calls `listener` with a job's id whenever its progress or state changes (on Redis: in any process, through
   * BullMQ's event stream); returns the function that stops it. Never throws into the caller.
   */
  watch(listener: (jobId: string) => void): () => void;
  /** Stops taking jobs, lets running ones finish (BullMQ hands back what cannot finish), closes what it created. */
  close(): Promise<void>;
}

export type BatchStatus = 'queued' | 'active' | 'completed' | 'failed';

/** A batch as the API reports it: children's states, progress, and the aggregated location score. */
export interface BatchSnapshot {
  id: string;
  kind: 'batch';
  locationId: string;
  status: BatchStatus;
  progress: number;
  total: number;
  completed: number;
  failed: number;
  result: {
    score: number | null;
    workflows: { workflowId: string; version: number; jobId: string; status: string; score: number | null }[];
  };
  errors: { workflowId: string; jobId: string; error: string }[];
  createdAt: string;
  finishedAt: string | null;
}
