// The worker thread of the analysis pool (src/features/workflows/analysis-pool.ts): runs analyses off the HTTP event loop.
// Location contexts are kept per `contextKey` (a few, most recent first), so a batch over one location sends the
// location's definitions once per worker, not once per workflow.
import { parentPort } from 'node:worker_threads';
import {
  AnalysisError,
  analyzeLocation,
  analyzeParsed,
  createLocationContext,
  InvalidDefinitionError,
  type LocationContext,
} from '../../analysis/index.js';
import type { PoolReply, PoolTask } from './analysis-pool.js';

const CONTEXTS_KEPT = 8;
const contexts = new Map<string, LocationContext>();

function contextFor(task: Extract<PoolTask, { kind: 'workflow' }>): LocationContext | undefined {
  if (task.context) {
    const built = createLocationContext(task.context);
    contexts.delete(task.contextKey);
    contexts.set(task.contextKey, built);
    while (contexts.size > CONTEXTS_KEPT) contexts.delete(contexts.keys().next().value!);
    return built;
  }
  return contexts.get(task.contextKey);
}

function run(task: PoolTask): PoolReply {
  try {
    if (task.kind === 'location') return { id: task.id, ok: true, result: analyzeLocation(task.input) };
    const location = contextFor(task);
    if (!location) return { id: task.id, ok: false, missingContext: true };
    return { id: task.id, ok: true, result: analyzeParsed(task.def, { location }) };
  } catch (error) {
    if (error instanceof InvalidDefinitionError)
      return { id: task.id, ok: false, error: { code: error.code, message: error.message, issues: [...error.issues] } };
    if (error instanceof AnalysisError)
      return { id: task.id, ok: false, error: { code: error.code, message: error.message } };
    return {
      id: task.id,
      ok: false,
      error: { code: 'ANALYSIS_FAILED', message: error instanceof Error ? error.message : String(error) },
    };
  }
}

parentPort!.on('message', (task: PoolTask) => parentPort!.postMessage(run(task)));
parentPort!.postMessage('ready');
