import { EventEmitter } from 'node:events';
import type { Cache } from '../types.js';
import { CacheOptionsError } from '../errors.js';

/** Options of {@link createKeyvStore}. */
export interface KeyvStoreOptions {
  /** Seconds an entry lives when Keyv passes no TTL (Keyv's "no expiry"). @default the cache's `defaultTtl` */
  defaultTtl?: number;
}

/** One entry of `setMany`, as Keyv passes it (TTL in milliseconds). */
export interface KeyvEntry {
  key: string;
  value: unknown;
  ttl?: number;
}

/**
 * A Keyv storage adapter (`new Keyv({ store })`) over an `@org/cache` cache, for cache-manager,
 * cacheable and NestJS `CacheModule`. Keyv keeps the value and its expiry in the string it stores;
 * the cache adds its Redis tier, memory fallback and deadlines underneath.
 */
export interface KeyvCacheStore extends EventEmitter {
  readonly opts: { dialect: '@org/cache' };
  /** Set by Keyv; Keyv itself prefixes the keys with it. */
  namespace?: string | undefined;
  get(key: string): Promise<unknown>;
  getMany(keys: string[]): Promise<unknown[]>;
  /** `ttl` in milliseconds, as Keyv passes it; rounded up to whole seconds for the cache. */
  set(key: string, value: unknown, ttl?: number): Promise<boolean>;
  setMany(entries: KeyvEntry[]): Promise<void>;
  has(key: string): Promise<boolean>;
  hasMany(keys: string[]): Promise<boolean[]>;
  delete(key: string): Promise<boolean>;
  deleteMany(keys: string[]): Promise<boolean>;
  /** Deletes every key of the cache's namespace: give Keyv a cache (or `forTenant`) of its own. */
  clear(): Promise<void>;
  /** Does nothing: the cache was passed in, so its owner closes it. */
  disconnect(): Promise<void>;
}

/** Milliseconds (Keyv) to whole seconds (the cache), rounded up so an entry never leaves early. */
function seconds(ttlMs: number | undefined, fallback: number | undefined): number | undefined {
  if (ttlMs === undefined || ttlMs === null || ttlMs === 0) return fallback;
  if (typeof ttlMs !== 'number' || !Number.isFinite(ttlMs) || ttlMs < 0)
    throw new CacheOptionsError(`ttl must be a positive number of milliseconds, got ${String(ttlMs)}`);
  return Math.max(1, Math.ceil(ttlMs / 1000));
}

/** Wraps `cache` as a Keyv store: `new Keyv({ store: createKeyvStore(cache) })`. */
export function createKeyvStore(cache: Cache, options: KeyvStoreOptions = {}): KeyvCacheStore {
  if (!cache || typeof cache.get !== 'function' || typeof cache.forTenant !== 'function')
    throw new CacheOptionsError('createKeyvStore needs a cache from createCache()');
  const fallback = options.defaultTtl;
  if (fallback !== undefined && (typeof fallback !== 'number' || !Number.isFinite(fallback) || fallback <= 0))
    throw new CacheOptionsError('defaultTtl must be a positive number of seconds');
  const ttlOf = (ttl: number | undefined) => {
    const s = seconds(ttl, fallback);
    return s === undefined ? undefined : { ttl: s };
  };
  const store = Object.assign(new EventEmitter(), {
    opts: { dialect: '@org/cache' as const },
    namespace: undefined as string | undefined,
    get: (key: string) => cache.get(key),
    getMany: (keys: string[]) => cache.getMany(keys),
    async set(key: string, value: unknown, ttl?: number) {
      await cache.set(key, value, ttlOf(ttl));
      return true;
    },
    setMany: (entries: KeyvEntry[]) =>
      cache.setMany(entries.map((e) => ({ key: e.key, value: e.value, options: ttlOf(e.ttl) }))),
    has: (key: string) => cache.has(key),
    hasMany: (keys: string[]) => Promise.all(keys.map((k) => cache.has(k))),
    delete: (key: string) => cache.delete(key),
    async deleteMany(keys: string[]) {
      const deleted = await Promise.all(keys.map((k) => cache.delete(k)));
      return deleted.some(Boolean);
    },
    clear: () => cache.clear(),
    disconnect: async () => {},
  });
  return store;
}
