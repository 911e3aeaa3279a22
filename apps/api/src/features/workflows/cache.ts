/**
 * What the workflow service needs from a cache (its keys and TTLs are the app's, src/cache/keys.ts): @org/cache's
 * `Cache` satisfies it as is (compose.ts passes one); tests may wrap it to record the keys touched.
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
