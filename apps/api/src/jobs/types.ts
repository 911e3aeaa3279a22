import type { BatchSnapshot } from './batch.js';

/** What an analysis job needs: the job id is derived from all three, so one version is never queued twice. */
export interface AnalysisJobData {
  locationId: string;
  workflowId: string;
  version: number;
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

export type ResolvedQueueOptions = Required<Omit<AnalysisQueueOptions, 'processor' | 'onAttempt'>> & Pick<AnalysisQueueOptions, 'processor' | 'onAttempt'>;

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
  createBatch(locationId: string, items: readonly { workflowId: string; version: number }[]): Promise<{ batchId: string; jobIds: string[] }>;
  /** The batch with its children's states and the aggregated location score; undefined when unknown. */
  getBatch(batchId: string): Promise<BatchSnapshot | undefined>;
  /** Stops taking jobs, lets running ones finish (BullMQ hands back what cannot finish), closes what it created. */
  close(): Promise<void>;
}
