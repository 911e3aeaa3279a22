/** What `error` events carry: a `CacheError` with a stable code and the original error as cause. */
export interface CacheErrorLike extends Error {
  readonly code: string;
}
