/**
 * The cache the workflow service reads through. Shaped after @org/cache's get/set/delete so that `AppDeps.cache`
 * (created in main.ts once @org/cache is wired) can be passed in as is; `createMemoryWorkflowCache` stands in until then.
 */
export interface WorkflowCache {
  get<T>(key: string): Promise<T | undefined>;
  set<T>(key: string, value: T, ttlSeconds: number): Promise<void>;
  delete(key: string): Promise<void>;
}

/** Keys and TTLs of issue 8, in one place (the @org/cache `defineKeys` declaration mirrors these). */
export const CACHE_KEYS = {
  /** The workflow list of a location. */
  workflows: (locationId: string) => `workflows:${locationId}`,
  /** One workflow (metadata and definition). */
  workflow: (locationId: string, workflowId: string) => `workflow:${locationId}:${workflowId}`,
  /**
   * One analysis result, keyed by the workflow's version and the analyzer's version. The location is part of the key:
   * workflow ids are chosen by whoever imports a definition, so a bare `analysis:{workflowId}` could collide across tenants.
   */
  analysis: (locationId: string, workflowId: string, version: number, analyzerVersion: string | number) => `analysis:${locationId}:${workflowId}:${version}:${analyzerVersion}`,
} as const;

/** Seconds (CacheTTL.WORKFLOW / ANALYSIS / USER of @org/cache). */
export const CACHE_TTL = { workflows: 600, workflow: 600, analysis: 3_600, user: 900 } as const;

/** A bounded in-process TTL cache (oldest entry evicted first), for one app instance. */
export function createMemoryWorkflowCache(maxEntries = 5_000): WorkflowCache {
  const entries = new Map<string, { value: unknown; expiresAt: number }>();
  return {
    async get<T>(key: string) {
      const hit = entries.get(key);
      if (!hit) return undefined;
      if (hit.expiresAt <= Date.now()) {
        entries.delete(key);
        return undefined;
      }
      return structuredClone(hit.value) as T;
    },
    async set(key, value, ttlSeconds) {
      entries.delete(key);
      entries.set(key, { value: structuredClone(value), expiresAt: Date.now() + ttlSeconds * 1000 });
      while (entries.size > maxEntries) entries.delete(entries.keys().next().value!);
    },
    async delete(key) {
      entries.delete(key);
    },
  };
}
