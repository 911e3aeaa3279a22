import { CacheOptionsError } from './errors.js';
import { durationMs } from './ttl.js';
import type { FactoryContext } from './types.js';

/** What the factory decided, read after it settled. */
export interface FactoryDecisions {
  ttlMs: number | undefined;
  tags: readonly string[] | undefined;
  skipped: boolean;
}

export function checkTags(tags: unknown): readonly string[] | undefined {
  if (tags === undefined) return undefined;
  if (!Array.isArray(tags) || tags.some((t) => typeof t !== 'string' || t.length === 0))
    throw new CacheOptionsError('tags must be an array of non-empty strings');
  return tags.length === 0 ? undefined : [...(tags as string[])];
}

/** A context for one factory call; `decisions` holds what it set. */
export function createFactoryContext<T>(
  key: string,
  stale: { value: unknown; expiresAt: number } | undefined,
  allowLongTtl: boolean,
): { context: FactoryContext<T>; decisions: FactoryDecisions } {
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
