import { CacheTTL, defineKeys } from '@org/cache';

/**
 * What the workflow service needs from a cache: @org/cache's `Cache` satisfies it as is (main.ts passes one); tests
 * may wrap it to record the keys touched.
 */
export interface WorkflowCache {
  get<T>(key: string): Promise<T | undefined>;
  set(key: string, value: unknown, ttlSeconds: number): Promise<void>;
  delete(key: string): Promise<unknown>;
}

/**
 * Keys of issue 8, in one place. The location is part of every key (and its Redis Cluster hash tag, so one tenant's
 * keys share a slot); in the analysis key too, because workflow ids are chosen by whoever imports a definition and a
 * bare `analysis:{workflowId}` could collide across tenants.
 */
export const CACHE_KEYS = defineKeys({
  /** The workflow list of a location. */
  workflows: 'workflows:{locationId}',
  /** One workflow (metadata and definition). */
  workflow: 'workflow:{locationId}:{workflowId}',
  /** One analysis result, keyed by the workflow's version and the analyzer's version. */
  analysis: 'analysis:{locationId}:{workflowId}:{version}:{analyzerVersion}',
  /** The user record of a location (invalidated when the tier changes; read by the auth/billing side). */
  user: 'user:{locationId}',
});

/** Seconds: CacheTTL.WORKFLOW (10 min), CacheTTL.ANALYSIS (1 h), CacheTTL.USER (15 min). */
export const CACHE_TTL = { workflows: CacheTTL.WORKFLOW, workflow: CacheTTL.WORKFLOW, analysis: CacheTTL.ANALYSIS, user: CacheTTL.USER } as const;
