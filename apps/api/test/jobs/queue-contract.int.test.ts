// One contract, two implementations: the in-process queue and BullMQ on the shared Redis (a fresh key prefix per
// test). The processors here are plain functions so the contract is about the queue; the job body that runs the
// workflow service is covered by test/features/workflows/job-routes.int.test.ts.
import { hasSharedRedis, sharedRedis, waitFor, type SharedRedis } from '@org/test-services';
import { afterEach, describe, expect, it } from 'vitest';
import {
  analysisJobId,
  createBullAnalysisQueue,
  createMemoryAnalysisQueue,
  PermanentJobError,
  QueueError,
  type AnalysisQueue,
  type AnalysisQueueOptions,
  type JobSnapshot,
} from '../../src/jobs/index.js';

const redisUp = await hasSharedRedis();

type Factory = (options: AnalysisQueueOptions) => Promise<AnalysisQueue>;

const redisHandles: SharedRedis[] = [];
const bullFactory: Factory = async (options) => {
  const redis = await sharedRedis('queue_contract');
  redisHandles.push(redis);
  return createBullAnalysisQueue({ ...options, redisUrl: redis.url, prefix: redis.prefix.slice(0, -1) });
};
const memoryFactory: Factory = async (options) => createMemoryAnalysisQueue(options);

const implementations: [string, Factory, boolean][] = [
  ['in-process queue', memoryFactory, true],
  ['BullMQ on the shared Redis', bullFactory, redisUp],
];

const data = (workflowId = 'wf1', version = 1, locationId = 'locA') => ({ locationId, workflowId, version });

describe.each(implementations)('AnalysisQueue contract: %s', (_name, factory, available) => {
  const queues: AnalysisQueue[] = [];
  const open = async (options: AnalysisQueueOptions) => {
    const q = await factory(options);
    queues.push(q);
    return q;
  };
  afterEach(async () => {
    await Promise.all(queues.splice(0).map((q) => q.close()));
    await Promise.all(redisHandles.splice(0).map((r) => r.cleanup()));
  });

  const settled = async (q: AnalysisQueue, id: string): Promise<JobSnapshot> => {
    let last: JobSnapshot | undefined;
    await waitFor(
      `job ${id} to end`,
      async () => {
        last = await q.get(id);
        return last?.status === 'completed' || last?.status === 'failed';
      },
      20_000,
    );
    return last!;
  };

  it.skipIf(!available)('runs a job: completed with the processor result, progress 100, the data kept', async () => {
    const q = await open({
      processor: async (d, ctx) => {
        await ctx.progress(40);
        return { echo: d.workflowId, v: d.version };
      },
    });
    const { jobId, duplicate } = await q.enqueue(data('wf1', 7));
    expect(duplicate).toBe(false);
    expect(jobId).toBe(analysisJobId(data('wf1', 7)));
    const job = await settled(q, jobId);
    expect(job).toMatchObject({
      id: jobId,
      locationId: 'locA',
      workflowId: 'wf1',
      version: 7,
      status: 'completed',
      progress: 100,
      result: { echo: 'wf1', v: 7 },
      error: null,
    });
    expect(job.finishedAt).not.toBeNull();
  });

  it.skipIf(!available)(
    'the same (location, workflow, version) is queued once; another version or location is a new job',
    async () => {
      let calls = 0;
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      const q = await open({
        processor: async () => {
          calls += 1;
          await gate;
          return calls;
        },
      });
      const first = await q.enqueue(data('wf1', 1));
      const again = await q.enqueue(data('wf1', 1));
      expect(again).toEqual({ jobId: first.jobId, duplicate: true });
      const v2 = await q.enqueue(data('wf1', 2));
      const otherLoc = await q.enqueue(data('wf1', 1, 'locB'));
      expect(new Set([first.jobId, v2.jobId, otherLoc.jobId]).size).toBe(3);
      release();
      await Promise.all([first.jobId, v2.jobId, otherLoc.jobId].map((id) => settled(q, id)));
      // Still a duplicate after completion: the completed job is kept, nothing runs again.
      expect((await q.enqueue(data('wf1', 1))).duplicate).toBe(true);
      await new Promise((r) => setTimeout(r, 200));
      expect(calls).toBe(3);
    },
  );

  it.skipIf(!available)('retries with exponential backoff, then completes', async () => {
    const starts: number[] = [];
    const q = await open({
      backoffMs: 100,
      attempts: 3,
      processor: async (_d, ctx) => {
        starts.push(Date.now());
        if (ctx.attempt < 3) throw new Error(`transient ${ctx.attempt}`);
        return 'ok';
      },
    });
    const { jobId } = await q.enqueue(data());
    const job = await settled(q, jobId);
    expect(job.status).toBe('completed');
    expect(job.result).toBe('ok');
    expect(starts).toHaveLength(3);
    // Lower bounds only (the machine is loaded): 100 ms, then 200 ms.
    expect(starts[1]! - starts[0]!).toBeGreaterThanOrEqual(95);
    expect(starts[2]! - starts[1]!).toBeGreaterThanOrEqual(195);
  });

  it.skipIf(!available)(
    'a job that keeps failing ends failed after `attempts`, and is kept with its error',
    async () => {
      let calls = 0;
      const q = await open({
        backoffMs: 20,
        attempts: 2,
        processor: async () => {
          calls += 1;
          throw new Error('boom');
        },
      });
      const { jobId } = await q.enqueue(data());
      const job = await settled(q, jobId);
      expect(job).toMatchObject({ status: 'failed', error: 'boom', attemptsMade: 2, result: null });
      expect(calls).toBe(2);
      expect((await q.get(jobId))?.status).toBe('failed');
      expect((await q.enqueue(data())).duplicate).toBe(true);
    },
  );

  it.skipIf(!available)('a PermanentJobError fails at once, without retries', async () => {
    let calls = 0;
    const q = await open({
      backoffMs: 20,
      attempts: 5,
      processor: async () => {
        calls += 1;
        throw new PermanentJobError('Workflow not found');
      },
    });
    const { jobId } = await q.enqueue(data());
    const job = await settled(q, jobId);
    expect(job).toMatchObject({ status: 'failed', error: 'Workflow not found' });
    expect(calls).toBe(1);
  });

  it.skipIf(!available)('an unknown id is undefined', async () => {
    const q = await open({ processor: async () => 1 });
    expect(await q.get(analysisJobId(data('never')))).toBeUndefined();
    expect(await q.get('not-a-job-id')).toBeUndefined();
  });

  it.skipIf(!available)(
    'a batch: one child job per item, the parent aggregates the scores and lists the failures',
    async () => {
      const runs: string[] = [];
      const q = await open({
        backoffMs: 10,
        attempts: 1,
        processor: async (d) => {
          runs.push(d.workflowId);
          if (d.workflowId === 'bad') throw new Error('cannot analyse');
          return { score: d.version * 10 };
        },
      });
      const { batchId, jobIds } = await q.createBatch('locA', [
        { workflowId: 'w1', version: 5 },
        { workflowId: 'w2', version: 8 },
        { workflowId: 'bad', version: 1 },
      ]);
      expect(batchId).toMatch(/^ba_/);
      expect(jobIds).toEqual([
        analysisJobId(data('w1', 5)),
        analysisJobId(data('w2', 8)),
        analysisJobId(data('bad', 1)),
      ]);
      let batch = await q.getBatch(batchId);
      await waitFor(
        'the batch to end',
        async () => {
          batch = await q.getBatch(batchId);
          return batch?.status === 'completed';
        },
        20_000,
      );
      expect(batch).toMatchObject({
        id: batchId,
        kind: 'batch',
        locationId: 'locA',
        status: 'completed',
        progress: 100,
        total: 3,
        completed: 2,
        failed: 1,
      });
      expect(batch!.result.score).toBe(65);
      expect(batch!.errors).toEqual([{ workflowId: 'bad', jobId: jobIds[2], error: 'cannot analyse' }]);
      // The children are ordinary jobs: queueing one again is a duplicate.
      expect((await q.enqueue(data('w1', 5))).duplicate).toBe(true);
      // A second batch over a done version and a new one runs only the new one, and reports both.
      const second = await q.createBatch('locA', [
        { workflowId: 'w1', version: 5 },
        { workflowId: 'w3', version: 2 },
      ]);
      expect(second.jobIds[0]).toBe(jobIds[0]);
      await waitFor(
        'the second batch to end',
        async () => (await q.getBatch(second.batchId))?.status === 'completed',
        20_000,
      );
      expect(await q.getBatch(second.batchId)).toMatchObject({ completed: 2, result: { score: 35 } });
      expect(runs.sort()).toEqual(['bad', 'w1', 'w2', 'w3']);
      expect(await q.getBatch('ba_unknown')).toBeUndefined();
      expect(await q.getBatch('nope')).toBeUndefined();
    },
  );

  it.skipIf(!available)('progress only moves forward while the job runs', async () => {
    let step!: () => void;
    let reached!: () => void;
    const q = await open({
      processor: async (_d, ctx) => {
        await ctx.progress(60);
        await ctx.progress(30);
        await new Promise<void>((r) => {
          step = r;
          reached();
        });
        return null;
      },
    });
    const atGate = new Promise<void>((r) => (reached = r));
    const { jobId } = await q.enqueue(data());
    await atGate;
    const running = await q.get(jobId);
    expect(running).toMatchObject({ status: 'active', progress: 60 });
    step();
    expect((await settled(q, jobId)).progress).toBe(100);
  });

  it.skipIf(!available)(
    'watch: the listener hears a job move (progress steps, end) and nothing after it stops',
    async () => {
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      const q = await open({
        processor: async (_d, ctx) => {
          await ctx.progress(30);
          await gate;
          await ctx.progress(70);
          return { ok: true };
        },
      });
      const heard: string[] = [];
      const stop = q.watch((jobId) => heard.push(jobId));
      const { jobId } = await q.enqueue(data('watched', 1));
      await waitFor(
        'the first progress to be heard',
        async () => (await q.get(jobId))?.progress === 30 && heard.includes(jobId),
        10_000,
        20,
      );
      const before = heard.length;
      release();
      await settled(q, jobId);
      await waitFor('the end to be heard', async () => heard.length >= before + 2, 10_000, 20);
      expect(new Set(heard)).toEqual(new Set([jobId]));
      stop();
      const after = heard.length;
      const other = await q.enqueue(data('unwatched', 1));
      await settled(q, other.jobId);
      await new Promise((r) => setTimeout(r, 300));
      expect(heard.length).toBe(after);
    },
  );

  it.skipIf(!available)(
    'scheduled audits: a cron schedule runs the auditor for its location; listed, replaced, removed; bad patterns refused',
    async () => {
      const runs: string[] = [];
      const q = await open({
        processor: async () => ({}),
        auditor: async ({ locationId }) => {
          runs.push(locationId);
          return { locationId, checked: 0, queued: 0, batchId: null };
        },
      });
      await q.scheduleAudit('locA', '* * * * * *');
      await waitFor('two audits of locA', async () => runs.length >= 2, 10_000, 50);
      expect(new Set(runs)).toEqual(new Set(['locA']));
      const [schedule] = await q.auditSchedules();
      expect(schedule).toMatchObject({ locationId: 'locA', pattern: '* * * * * *', timeZone: 'UTC' });
      expect(Date.parse(schedule!.next!)).toBeGreaterThan(Date.now() - 2_000);

      // Scheduling the location again replaces its schedule (one per location).
      await q.scheduleAudit('locA', '0 3 * * *', 'Europe/Berlin');
      expect(await q.auditSchedules()).toEqual([
        expect.objectContaining({ locationId: 'locA', pattern: '0 3 * * *', timeZone: 'Europe/Berlin' }),
      ]);
      expect(await q.auditSchedule('locA')).toMatchObject({
        locationId: 'locA',
        pattern: '0 3 * * *',
        timeZone: 'Europe/Berlin',
      });
      expect(await q.auditSchedule('locB')).toBeUndefined();
      const afterReplace = runs.length;
      await new Promise((r) => setTimeout(r, 1_500));
      expect(runs.length).toBeLessThanOrEqual(afterReplace + 1);

      expect(await q.unscheduleAudit('locA')).toBe(true);
      expect(await q.unscheduleAudit('locA')).toBe(false);
      expect(await q.auditSchedules()).toEqual([]);
      await expect(q.scheduleAudit('locB', 'every night')).rejects.toMatchObject({ code: 'QUEUE_INVALID_OPTIONS' });
      await expect(q.scheduleAudit('locB', '0 3 * * *', 'Mars/Olympus')).rejects.toMatchObject({
        code: 'QUEUE_INVALID_OPTIONS',
      });
      expect(await q.auditSchedules()).toEqual([]);
    },
  );
});

describe('AnalysisQueue options', () => {
  it('bad options throw a coded error at construction', () => {
    expect(() => createMemoryAnalysisQueue({ processor: async () => 1, attempts: 0 })).toThrow(QueueError);
    expect(() => createMemoryAnalysisQueue({})).toThrow(expect.objectContaining({ code: 'QUEUE_INVALID_OPTIONS' }));
    expect(() => createBullAnalysisQueue({ redisUrl: 'http://x' })).toThrow(
      expect.objectContaining({ code: 'QUEUE_INVALID_OPTIONS' }),
    );
  });
});
