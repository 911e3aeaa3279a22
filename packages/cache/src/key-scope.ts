/**
 * Where a cache's keys live. Every Redis key starts with `<prefix>:`; a tenant's keys continue with `t:{<id>}:` (a
 * Cluster hash tag, so one tenant's keys share a slot). Memory keys omit the `<prefix>:` part. Locks, tag sets and
 * the pub/sub channel live beside the values under `<prefix>!`, outside every tenant's key space.
 */
import { CacheKeyError } from './errors.js';

export function checkKey(key: unknown): asserts key is string {
  if (typeof key !== 'string' || key.length === 0) throw new CacheKeyError('a cache key must be a non-empty string');
}

/** The memory-key prefix of a tenant (the root cache has ''). `id` is already checked by `keyPart`. */
export const tenantPrefix = (id: string): string => `t:{${id}}:`;

/** A string matched literally by Redis `SCAN ... MATCH`. */
export const escapeGlob = (s: string): string => s.replace(/[*?[\]\\]/g, '\\$&');

/** The key names of one cache namespace (`prefix`). */
export class Namespace {
  /** `${prefix}:`: every Redis key of this cache starts with it; memory keys omit it. */
  readonly rootPrefix: string;
  /** The pub/sub channel of invalidations and lock wake-ups. */
  readonly channel: string;

  constructor(private readonly prefix: string) {
    this.rootPrefix = `${prefix}:`;
    this.channel = `${prefix}!events`;
  }

  /** The memory key of a Redis key (the namespace prefix is implied in memory). */
  mk(full: string): string {
    return full.slice(this.rootPrefix.length);
  }

  /** The cross-process lock of a Redis key. */
  lockKey(full: string): string {
    return `${this.prefix}!lock:${full}`;
  }

  /** The set of Redis keys written with `tag` in the scope whose Redis keys start with `scopePrefix`. */
  tagKey(scopePrefix: string, tag: string): string {
    return `${this.prefix}!tag:${scopePrefix}${tag}`;
  }
}
