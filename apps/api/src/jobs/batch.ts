import { randomUUID } from 'node:crypto';
import type { AnalysisJobData, BatchSnapshot, BatchStatus, JobSnapshot } from './types.js';

/** A stored batch: the parent of one analysis job per workflow (its state is derived from the children). */
export interface BatchRecord {
  id: string;
  locationId: string;
  items: { workflowId: string; version: number; jobId: string }[];
  createdAt: string;
}

/** Where batch records live: a Map in-process, a Redis key with BullMQ. */
export interface BatchStore {
  save(record: BatchRecord): Promise<void>;
  load(id: string): Promise<BatchRecord | undefined>;
}

export const isBatchId = (id: string) => /^ba_[\w-]{1,64}$/.test(id);
export const newBatchId = () => `ba_${randomUUID()}`;

const scoreOf = (result: unknown): number | null => {
  const score = (result as { score?: unknown } | null)?.score;
  return typeof score === 'number' ? score : null;
};

/**
 * The parent's state from its children: finished when every child is, `failed` only when every child failed;
 * the location score is the mean of the analysed workflows' scores.
 */
export function summarizeBatch(record: BatchRecord, children: (JobSnapshot | undefined)[]): BatchSnapshot {
  const rows = record.items.map((item, i) => ({ item, job: children[i] }));
  const completed = rows.filter((r) => r.job?.status === 'completed');
  const failed = rows.filter((r) => r.job?.status === 'failed');
  // A child that no longer exists (its job expired before the batch did) is finished: its status is `unknown`, and the
  // batch still ends, so that its stream ends too.
  const missing = rows.filter((r) => r.job === undefined);
  const total = rows.length;
  const done = completed.length + failed.length + missing.length;
  const scores = completed.map((r) => scoreOf(r.job!.result)).filter((s): s is number => s !== null);
  const progress =
    total === 0
      ? 100
      : Math.floor(
          rows.reduce((sum, r) => sum + (!r.job || r.job.status === 'failed' ? 100 : r.job.progress), 0) / total,
        );
  const status: BatchStatus =
    done === total
      ? failed.length === total && total > 0
        ? 'failed'
        : 'completed'
      : rows.some((r) => r.job && r.job.status !== 'queued')
        ? 'active'
        : 'queued';
  const finishedAt =
    done === total
      ? (rows
          .map((r) => r.job?.finishedAt ?? record.createdAt)
          .sort()
          .at(-1) ?? record.createdAt)
      : null;
  return {
    id: record.id,
    kind: 'batch',
    locationId: record.locationId,
    status,
    progress: status === 'completed' || status === 'failed' ? 100 : progress,
    total,
    completed: completed.length,
    failed: failed.length,
    result: {
      score: scores.length > 0 ? Math.round(scores.reduce((a, b) => a + b, 0) / scores.length) : null,
      workflows: rows.map((r) => ({
        ...r.item,
        status: r.job?.status ?? 'unknown',
        score: r.job?.status === 'completed' ? scoreOf(r.job.result) : null,
      })),
    },
    errors: failed.map((r) => ({
      workflowId: r.item.workflowId,
      jobId: r.item.jobId,
      error: r.job!.error ?? 'failed',
    })),
    createdAt: record.createdAt,
    finishedAt,
  };
}

/**
 * Batch operations over any queue: children are ordinary analysis jobs (so a version already analysed is not redone).
 * `enqueueAll` queues every child at once (BullMQ: one round trip for the whole batch), skipping existing ids.
 */
export function batchOperations(
  store: BatchStore,
  queue: {
    enqueueAll(d: readonly AnalysisJobData[]): Promise<string[]>;
    get(id: string): Promise<JobSnapshot | undefined>;
  },
) {
  return {
    async createBatch(locationId: string, items: readonly { workflowId: string; version: number }[]) {
      const jobIds = await queue.enqueueAll(
        items.map((item) => ({ locationId, workflowId: item.workflowId, version: item.version })),
      );
      const children = items.map((item, i) => ({
        workflowId: item.workflowId,
        version: item.version,
        jobId: jobIds[i]!,
      }));
      const record: BatchRecord = {
        id: newBatchId(),
        locationId,
        items: children,
        createdAt: new Date().toISOString(),
      };
      await store.save(record);
      return { batchId: record.id, jobIds: children.map((c) => c.jobId) };
    },
    async getBatch(batchId: string): Promise<BatchSnapshot | undefined> {
      if (!isBatchId(batchId)) return undefined;
      const record = await store.load(batchId);
      if (!record) return undefined;
      return summarizeBatch(record, await Promise.all(record.items.map((i) => queue.get(i.jobId))));
    },
  };
}
