import { CacheTTL } from '@org/cache';
import { CacheKeys } from '../cache/keys.js';

/**
 * What the workflow service needs from a cache: @org/cache's `Cache` satisfies it as is (main.ts passes one); tests
 * may wrap it to record the keys touched.
 */
export interface WorkflowCache {
  get<T>(key: string): Promise<T | undefined>;
  set(key: string, value: unknown, ttlSeconds: number): Promise<void>;
  delete(key: string): Promise<unknown>;
  /**
   * Read-through with single-flight (@org/cache's `wrap`, across processes on Redis): concurrent misses of one key run
   * `load` once. Optional: without it the service reads through `get`/`set`.
   */
  wrap?<T>(key: string, load: () => Promise<T>, ttlSeconds: number): Promise<T>;
}

/**
 * Keys of issue 8: the app's one key module (src/cache/keys.ts). The location is part of every key (and its Redis
 * Cluster hash tag, so one tenant's keys share a slot); in the analysis key too, because workflow ids are chosen by
 * whoever imports a definition and a bare `analysis:{workflowId}` could collide across tenants.
 */
export const CACHE_KEYS = {
  workflows: CacheKeys.workflows,
  workflow: CacheKeys.workflow,
  analysis: CacheKeys.workflowAnalysis,
  user: CacheKeys.user,
  context: CacheKeys.analysisContext,
} as const;

/** Seconds: CacheTTL.WORKFLOW (10 min), CacheTTL.ANALYSIS (1 h), CacheTTL.USER (15 min). */
export const CACHE_TTL = { workflows: CacheTTL.WORKFLOW, workflow: CacheTTL.WORKFLOW, analysis: CacheTTL.ANALYSIS, user: CacheTTL.USER, context: CacheTTL.WORKFLOW } as const;
