import type { Response } from 'express';
import type { BatchSnapshot, JobSnapshot } from './types.js';
import { HttpError } from '../http/errors.js';

/** Options of {@link createJobEventStreams}. */
export interface JobEventStreamsOptions {
  /** Reads the job (or batch) as the client may see it; undefined ends the stream. */
  read: (id: string) => Promise<JobSnapshot | BatchSnapshot | undefined>;
  /**
   * Tells when a job changed (AnalysisQueue.watch): a stream then reads its job at once instead of at its next look.
   * @default none (streams only poll)
   */
  watch?: (listener: (jobId: string) => void) => () => void;
  /** How often a stream looks at its job: the pace without `watch`, a safety net with it. @default 250, 2000 with `watch` */
  intervalMs?: number;
  /**
   * Reads prompted by `watch` come at most this often per stream: a batch of 500 children reports thousands of
   * changes, and each read of a batch reads every child. @default 100
   */
  minIntervalMs?: number;
  /** A comment line this often keeps proxies from closing an idle stream. @default 15000 */
  heartbeatMs?: number;
  /** Streams one owner (a location) may hold open at once; more get 429. @default 5 */
  maxPerOwner?: number;
  /** Streams this process holds open at once; more get 429. @default 500 */
  maxOpen?: number;
  /** A stream ends (event `expired`; an EventSource reconnects) after this long, whatever its job does. @default 600000 */
  maxLifetimeMs?: number;
}

/** The open Server-Sent Events streams of job progress (one timer each, released when the job ends or the client goes). */
export interface JobEventStreams {
  /**
   * Streams `progress` events (monotonic) and one final `end` event, then closes. Throws `HttpError` 429
   * (TOO_MANY_STREAMS), before anything is written, when `owner` or the process holds its maximum of open streams.
   */
  stream(res: Response, id: string, view: (job: JobSnapshot | BatchSnapshot) => unknown, owner?: string): void;
  /** Streams open now (tests and metrics: it returns to 0 when clients disconnect). */
  active(): number;
  /** Ends every stream (shutdown). */
  closeAll(): void;
}

const TERMINAL = new Set(['completed', 'failed']);

/**
 * Job progress as Server-Sent Events. Each stream reads its job (the same read as `GET /jobs/:id`, so batches and
 * both queue implementations behave alike) when the queue says the job (or one of a batch's children) changed, and
 * at a slow pace in case an event was missed; it writes only when progress or status moved. Responses carry
 * `Cache-Control: no-transform` (the compression middleware then leaves them alone) and `X-Accel-Buffering: no`
 * (nginx does not buffer them); each event is flushed as written.
 */
export function createJobEventStreams(options: JobEventStreamsOptions): JobEventStreams {
  const intervalMs = options.intervalMs ?? (options.watch ? 2_000 : 250);
  const heartbeatMs = options.heartbeatMs ?? 15_000;
  const minIntervalMs = options.minIntervalMs ?? 100;
  const maxPerOwner = options.maxPerOwner ?? 5;
  const maxOpen = options.maxOpen ?? 500;
  const maxLifetimeMs = options.maxLifetimeMs ?? 600_000;
  const open = new Set<() => void>();
  const perOwner = new Map<string, number>();
  // One read per job id at a time, shared by every stream on it for `minIntervalMs`: N streams on one batch cost the
  // reads of one.
  const reads = new Map<string, { at: number; value: Promise<JobSnapshot | BatchSnapshot | undefined> }>();
  const read = (id: string) => {
    const now = Date.now();
    const last = reads.get(id);
    if (last && now - last.at < minIntervalMs) return last.value;
    const value = options.read(id);
    reads.set(id, { at: now, value });
    setTimeout(() => {
      if (reads.get(id)?.value === value) reads.delete(id);
    }, minIntervalMs).unref();
    return value;
  };
  // One queue subscription for all streams of this process, routed by job id; held only while streams are open.
  const watchers = new Map<string, Set<() => void>>();
  let unwatch: (() => void) | undefined;
  const follow = (jobIds: Iterable<string>, wake: () => void) => {
    if (!options.watch) return () => undefined;
    const ids = [...jobIds];
    for (const id of ids) {
      let set = watchers.get(id);
      if (!set) watchers.set(id, (set = new Set()));
      set.add(wake);
    }
    unwatch ??= options.watch((jobId) => {
      for (const w of watchers.get(jobId) ?? []) w();
    });
    return () => {
      for (const id of ids) {
        const set = watchers.get(id);
        set?.delete(wake);
        if (set?.size === 0) watchers.delete(id);
      }
      if (watchers.size === 0) {
        unwatch?.();
        unwatch = undefined;
      }
    };
  };

  return {
    active: () => open.size,
    closeAll() {
      for (const close of [...open]) close();
    },
    stream(res, id, view, owner) {
      if (open.size >= maxOpen || (owner !== undefined && (perOwner.get(owner) ?? 0) >= maxPerOwner)) {
        throw new HttpError(
          429,
          'TOO_MANY_STREAMS',
          `Too many open progress streams (at most ${maxPerOwner} per location); close one or poll GET /jobs/{id}`,
          { headers: { 'Retry-After': '5' } },
        );
      }
      if (owner !== undefined) perOwner.set(owner, (perOwner.get(owner) ?? 0) + 1);
      res.status(200);
      res.setHeader('Content-Type', 'text/event-stream; charset=utf-8');
      res.setHeader('Cache-Control', 'no-cache, no-transform');
      res.setHeader('X-Accel-Buffering', 'no');
      res.setHeader('Connection', 'keep-alive');
      res.flushHeaders();
      res.socket?.setNoDelay(true);

      let lastProgress = -1;
      let lastStatus = '';
      let seq = 0;
      let timer: NodeJS.Timeout | undefined;
      let lastWrite = Date.now();
      let closed = false;
      // A change heard while a read is running is read again right after it.
      let reading = false;
      let dirty = false;
      let lastRead = 0;
      let unfollow: (() => void) | undefined;
      const wake = () => {
        if (closed) return;
        if (reading) {
          dirty = true;
          return;
        }
        clearTimeout(timer);
        timer = setTimeout(() => void tick(), Math.max(0, lastRead + minIntervalMs - Date.now()));
      };
      const send = (event: string, data: unknown) => {
        res.write(`id: ${++seq}\nevent: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
        lastWrite = Date.now();
      };
      const close = () => {
        if (closed) return;
        closed = true;
        clearTimeout(timer);
        clearTimeout(expiry);
        if (owner !== undefined) {
          const left = (perOwner.get(owner) ?? 1) - 1;
          if (left > 0) perOwner.set(owner, left);
          else perOwner.delete(owner);
        }
        unfollow?.();
        open.delete(close);
        res.off('close', close);
        if (!res.writableEnded) res.end();
      };
      open.add(close);
      res.on('close', close);
      const expiry = setTimeout(() => {
        send('expired', { id, reconnect: true });
        close();
      }, maxLifetimeMs);

      const tick = async () => {
        if (closed) return;
        clearTimeout(timer);
        let job: JobSnapshot | BatchSnapshot | undefined;
        reading = true;
        dirty = false;
        lastRead = Date.now();
        try {
          job = await read(id);
        } catch {
          // A failed read (Redis blip) is retried at the next tick; the client keeps its stream.
          job = undefined;
          if (!closed) timer = setTimeout(() => void tick(), intervalMs);
          return;
        } finally {
          reading = false;
        }
        if (closed) return;
        // The ids whose changes move this stream: the job, or the batch's children.
        unfollow ??= job
          ? follow([id, ...('kind' in job ? job.result.workflows.map((w) => w.jobId) : [])], wake)
          : undefined;
        if (!job) {
          send('end', { id, status: 'gone' });
          close();
          return;
        }
        // Monotonic for the client even if a retry restarts a job's own progress.
        const progress = Math.max(lastProgress, job.progress);
        if (progress !== lastProgress || job.status !== lastStatus) {
          lastProgress = progress;
          lastStatus = job.status;
          send('progress', { id, status: job.status, progress });
        } else if (Date.now() - lastWrite >= heartbeatMs) {
          res.write(': keep-alive\n\n');
          lastWrite = Date.now();
        }
        if (TERMINAL.has(job.status)) {
          send('end', view(job));
          close();
          return;
        }
        timer = setTimeout(() => void tick(), dirty ? Math.max(0, lastRead + minIntervalMs - Date.now()) : intervalMs);
      };
      void tick();
    },
  };
}
