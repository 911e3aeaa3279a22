import { CacheOptionsError } from './errors.js';
import { durationMs, type Duration } from './ttl.js';

/** What the factory of `wrap` receives: adjust how its result is cached, or skip caching it. */
export interface FactoryContext<T = unknown> {
  /** The key `wrap` was called with (without the cache's prefix or tenant). */
  readonly key: string;
  /** The previous value, past its TTL but within `grace`, when there is one (e.g. to refresh it with a conditional request). */
  readonly stale: { readonly value: T; readonly expiredAt: number } | undefined;
  /** Caches the result for this long instead of the call's TTL (e.g. a token's own `expiresIn`). Same rules as `ttl`. */
  setTtl(ttl: Duration): void;
  /** Replaces the call's tags for this result (e.g. tags read from the fetched object). */
  setTags(tags: readonly string[]): void;
  /** Returns the result to the caller without caching it (e.g. an empty list or a partial answer). */
  skip(): void;
}

/** What the factory decided, read after it settled. */
export interface FactoryDecisions {
  ttlMs: number | undefined;
  tags: readonly string[] | undefined;
  skipped: boolean;
}

export function checkTags(tags: unknown): readonly string[] | undefined {
  if (tags === undefined) return undefined;
  if (!Array.isArray(tags) || tags.some((t) => typeof t !== 'string' || t.length === 0)) throw new CacheOptionsError('tags must be an array of non-empty strings');
  return tags.length === 0 ? undefined : [...(tags as string[])];
}

/** A context for one factory call; `decisions` holds what it set. */
export function createFactoryContext<T>(key: string, stale: { value: unknown; expiresAt: number } | undefined, allowLongTtl: boolean): { context: FactoryContext<T>; decisions: FactoryDecisions } {
  const decisions: FactoryDecisions = { ttlMs: undefined, tags: undefined, skipped: false };
  const context: FactoryContext<T> = {
    key,
    stale: stale === undefined ? undefined : { value: stale.value as T, expiredAt: stale.expiresAt },
    setTtl(ttl) {
      decisions.ttlMs = durationMs(ttl, 'ctx.setTtl', { allowZero: false, allowLong: allowLongTtl });
    },
    setTags(tags) {
      decisions.tags = checkTags(tags) ?? [];
    },
    skip() {
      decisions.skipped = true;
    },
  };
  return { context, decisions };
}
