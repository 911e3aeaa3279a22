import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import {
  AnalysisError,
  analyzeLocation,
  analyzeParsed,
  createLocationContext,
  InvalidDefinitionError,
  type AnalyzeLocationInput,
  type InputIssue,
  type LocationAnalysis,
  type LocationContext,
  type LocationContextInput,
  type WorkflowAnalysis,
  type WorkflowDefinition,
} from '../../analysis/index.js';

/** An analysis ran longer than the pool's time budget; its worker was stopped. */
export class AnalysisTimeBudgetError extends AnalysisError {
  // Spelled out: the API's error catalog maps errors by name, and a bundler may rename classes.
  override readonly name = 'AnalysisTimeBudgetError';
  constructor(readonly budgetMs: number) {
    super('ANALYSIS_TIME_BUDGET_EXCEEDED', `The analysis did not finish within ${budgetMs} ms`);
  }
}

/** More analyses are waiting than the pool queues; try again shortly. */
export class AnalysisPoolBusyError extends AnalysisError {
  override readonly name = 'AnalysisPoolBusyError';
  constructor(readonly queued: number) {
    super('ANALYSIS_POOL_BUSY', `${queued} analyses are waiting already`);
  }
}

/** A location context's inputs, or how to read them (called only when the thread lacks the context of the key). */
export type LocationContextSource = LocationContextInput | (() => Promise<LocationContextInput>);

const contextOfSource = async (source: LocationContextSource): Promise<LocationContextInput> =>
  typeof source === 'function' ? source() : source;

/** Runs analyses: in this thread, or in worker threads with a time budget (`createAnalysisPool`). */
export interface AnalysisRunner {
  /**
   * One workflow against its location's context. `contextKey` names `context` (the same key for the same inputs),
   * so each location context is built (and a lazy `context` read) once per thread; undefined: `context` is used once.
   */
  workflow(
    def: WorkflowDefinition,
    contextKey: string | undefined,
    context: LocationContextSource,
  ): Promise<WorkflowAnalysis>;
  /** Every workflow of a location together (`analyzeLocation`). */
  location(input: AnalyzeLocationInput): Promise<LocationAnalysis>;
  close(): Promise<void>;
}

const CONTEXTS_KEPT = 8;

/** Runs every analysis on the calling thread (tests, and `createWorkflowService`'s default), contexts kept per key. */
export function createInThreadRunner(): AnalysisRunner {
  const contexts = new Map<string, LocationContext>();
  return {
    async workflow(def, contextKey, context) {
      let location = contextKey === undefined ? undefined : contexts.get(contextKey);
      if (!location) {
        location = createLocationContext(await contextOfSource(context));
        if (contextKey !== undefined) contexts.set(contextKey, location);
        while (contexts.size > CONTEXTS_KEPT) contexts.delete(contexts.keys().next().value!);
      }
      return analyzeParsed(def, { location });
    },
    location: async (input) => analyzeLocation(input),
    close: async () => undefined,
  };
}

/** @internal Messages between the pool and `analysis-worker`. */
export type PoolTask =
  | { id: number; kind: 'workflow'; def: WorkflowDefinition; contextKey: string; context?: LocationContextInput }
  | { id: number; kind: 'location'; input: AnalyzeLocationInput };
/** @internal */
export type PoolReply =
  | { id: number; ok: true; result: WorkflowAnalysis | LocationAnalysis }
  | { id: number; ok: false; missingContext: true }
  | { id: number; ok: false; error: { code: string; message: string; issues?: InputIssue[] } };

export interface AnalysisPoolOptions {
  /** Worker threads. @default available cores - 1, at least 1, at most 4 */
  threads?: number;
  /** Longest run of one analysis; beyond it the worker is stopped and the analysis fails. @default 2000 */
  timeBudgetMs?: number;
  /** Analyses waiting for a free worker; beyond it `AnalysisPoolBusyError`. @default 1000 */
  maxQueued?: number;
}

interface Pending {
  task: PoolTask;
  context?: LocationContextSource;
  resolve: (value: never) => void;
  reject: (error: Error) => void;
}

interface Slot {
  worker: Worker;
  /** Set once the worker has loaded the analyzer: the time budget counts analysis time, not start-up. */
  ready: boolean;
  busy?: { pending: Pending; timer: NodeJS.Timeout };
}

// The worker entry next to this module: analysis-worker.js in the build (dist/); analysis-worker.ts when the server
// runs from source under tsx, whose loader a worker thread does not inherit, so the thread registers it first.
const FROM_SOURCE = import.meta.url.endsWith('.ts');
const WORKER_URL = new URL(`./analysis-worker${FROM_SOURCE ? '.ts' : '.js'}`, import.meta.url);

function startWorker(): Worker {
  if (!FROM_SOURCE) return new Worker(WORKER_URL);
  const tsx = import.meta.resolve('tsx/esm/api');
  const code = `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(WORKER_URL.href)}); })`;
  return new Worker(code, { eval: true });
}

/**
 * A fixed pool of worker threads for analyses, so that no definition, however hostile, stalls the HTTP event loop:
 * each analysis runs on a worker with a time budget, and a worker that overruns it is terminated (and replaced) and
 * the analysis fails with `AnalysisTimeBudgetError`.
 */
export function createAnalysisPool(options: AnalysisPoolOptions = {}): AnalysisRunner {
  const threads = options.threads ?? Math.min(4, Math.max(1, availableParallelism() - 1));
  const budgetMs = options.timeBudgetMs ?? 2_000;
  const maxQueued = options.maxQueued ?? 1_000;
  if (!Number.isInteger(threads) || threads < 1) throw new RangeError('threads must be a positive integer');
  if (!(budgetMs > 0)) throw new RangeError('timeBudgetMs must be positive');
  let nextId = 1;
  let closed = false;
  const queue: Pending[] = [];
  const slots: Slot[] = [];

  const spawn = (): Slot => {
    const slot: Slot = { worker: startWorker(), ready: false };
    slot.worker.unref();
    slot.worker.on('message', (reply: PoolReply | 'ready') => {
      if (reply !== 'ready') return settle(slot, reply);
      slot.ready = true;
      pump();
    });
    slot.worker.on('error', (error) => {
      const failure = new AnalysisError('ANALYSIS_FAILED', `analysis worker failed: ${error.message}`, {
        cause: error,
      });
      if (slot.busy) return fail(slot, failure);
      // A worker that cannot even start fails what waits (rather than leaving it waiting) and is retried a bit later.
      for (const pending of queue.splice(0)) pending.reject(failure);
      setTimeout(() => replace(slot), 1_000).unref();
    });
    slot.worker.on('exit', () => {
      if (slot.busy) fail(slot, new AnalysisError('ANALYSIS_FAILED', 'analysis worker exited'));
    });
    return slot;
  };

  const replace = (slot: Slot) => {
    slot.worker.removeAllListeners();
    void slot.worker.terminate();
    const at = slots.indexOf(slot);
    if (at >= 0 && !closed) slots[at] = spawn();
  };

  const fail = (slot: Slot, error: Error) => {
    const busy = slot.busy;
    if (!busy) return;
    clearTimeout(busy.timer);
    slot.busy = undefined;
    busy.pending.reject(error);
    replace(slot);
    pump();
  };

  const settle = (slot: Slot, reply: PoolReply) => {
    const busy = slot.busy;
    if (!busy || busy.pending.task.id !== reply.id) return;
    clearTimeout(busy.timer);
    slot.busy = undefined;
    if (reply.ok) busy.pending.resolve(reply.result as never);
    else if ('missingContext' in reply) {
      // The worker does not hold this location's context: read the inputs, then send them, first in line.
      const { pending } = busy;
      contextOfSource(pending.context!).then(
        (context) => {
          if (closed) return pending.reject(new AnalysisError('ANALYSIS_POOL_CLOSED', 'the analysis pool is closed'));
          queue.unshift({
            ...pending,
            task: { ...(pending.task as Extract<PoolTask, { kind: 'workflow' }>), context },
          });
          pump();
        },
        (error: unknown) => pending.reject(error instanceof Error ? error : new Error(String(error))),
      );
    } else if (reply.error.issues) busy.pending.reject(new InvalidDefinitionError('workflow', reply.error.issues));
    else busy.pending.reject(new AnalysisError(reply.error.code, reply.error.message));
    pump();
  };

  const pump = () => {
    for (const slot of slots) {
      if (slot.busy || !slot.ready) continue;
      const pending = queue.shift();
      if (!pending) return;
      const timer = setTimeout(() => fail(slot, new AnalysisTimeBudgetError(budgetMs)), budgetMs);
      slot.busy = { pending, timer };
      slot.worker.postMessage(pending.task);
    }
  };

  const submit = <T>(task: PoolTask, context?: LocationContextSource) =>
    new Promise<T>((resolve, reject) => {
      if (closed) return reject(new AnalysisError('ANALYSIS_POOL_CLOSED', 'the analysis pool is closed'));
      if (queue.length >= maxQueued) return reject(new AnalysisPoolBusyError(queue.length));
      queue.push({ task, context, resolve: resolve as (value: never) => void, reject });
      pump();
    });

  for (let i = 0; i < threads; i++) slots.push(spawn());
  return {
    // The first attempt sends only the key; a worker without that context answers `missingContext` and gets it.
    workflow: async (def, contextKey, context) => {
      const id = nextId++;
      return contextKey === undefined
        ? submit<WorkflowAnalysis>({
            id,
            kind: 'workflow',
            def,
            contextKey: `once:${id}`,
            context: await contextOfSource(context),
          })
        : submit<WorkflowAnalysis>({ id, kind: 'workflow', def, contextKey }, context);
    },
    location: (input) => submit<LocationAnalysis>({ id: nextId++, kind: 'location', input }),
    async close() {
      closed = true;
      for (const pending of queue.splice(0))
        pending.reject(new AnalysisError('ANALYSIS_POOL_CLOSED', 'the analysis pool is closed'));
      await Promise.all(
        slots.map(async (slot) => {
          if (slot.busy) fail(slot, new AnalysisError('ANALYSIS_POOL_CLOSED', 'the analysis pool is closed'));
          else await slot.worker.terminate();
        }),
      );
    },
  };
}
