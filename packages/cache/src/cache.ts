/**
 * `createCache` and the `Cache` a caller holds: the root cache or one tenant's (`forTenant`). Each method checks its
 * arguments, waits for the first Redis connection (`afterBoot`), and hands over to the file of the mode:
 * memory-mode.ts, redis-mode.ts (fallback and near), redis-failure.ts (Redis down), wrap.ts.
 */
import { Accounting } from './accounting.js';
import { writeSpec } from './call-options.js';
import { Core } from './core.js';
import { CacheClosedError, CacheError, CacheKeyError, CacheOptionsError } from './errors.js';
import { checkKey, tenantPrefix } from './key-scope.js';
import { keyPart } from './keys.js';
import { getFromMemory, memKey, peek, writeMemory } from './memory-mode.js';
import { clearInRedis, deleteInRedis, deleteTagInRedis, getFromRedis, read, write } from './redis-mode.js';
import type { ScopeRef } from './state.js';
import type {
  Cache,
  CacheCounters,
  CacheEventName,
  CacheEvents,
  CacheOptions,
  CacheStats,
  SetOptions,
  WrapFactory,
  WrapOptions,
} from './types.js';
import { wrap } from './wrap.js';

const MAX_TENANTS = 10_000;

/** The root cache (no tenant) or one tenant's cache. */
class Scope implements Cache, ScopeRef {
  readonly acc: Accounting;
  readonly keyPrefix: string;
  private readonly isRoot: boolean;

  constructor(
    readonly core: Core,
    readonly memPrefix: string,
    readonly tenant: string | undefined,
  ) {
    this.keyPrefix = core.ns.rootPrefix + memPrefix;
    this.isRoot = tenant === undefined;
    this.acc = new Accounting(core.totals, this.isRoot, core.sink, core.emitter, core.ns);
  }

  // ---- reads -------------------------------------------------------------------------------

  get<T = unknown>(key: string): Promise<T | undefined> {
    const core = this.core;
    if (core.closed) return Promise.reject(new CacheClosedError());
    if (typeof key !== 'string' || key.length === 0)
      return Promise.reject(new CacheKeyError('a cache key must be a non-empty string'));
    if (core.o.mode === 'memory') return getFromMemory<T>(this, key);
    const full = this.keyPrefix + key;
    const redis = core.redis!;
    if (redis.booting) return this.afterBoot(() => this.get<T>(key));
    if (core.o.mode === 'fallback' && redis.usable) return getFromRedis<T>(this, full);
    const sink = this.acc.sink;
    const started = sink.now();
    return read(this, full, false, true).then((r) => {
      sink.observe('get', r?.tier ?? (redis.usable ? 'redis' : 'memory'), started);
      return r?.fresh ? (r.value as T) : undefined;
    });
  }

  async has(key: string): Promise<boolean> {
    this.open();
    checkKey(key);
    if (this.core.redis?.booting) return this.afterBoot(() => this.has(key));
    const r = await read(this, this.keyPrefix + key, false, false);
    return r?.fresh === true;
  }

  getMany<T = unknown>(keys: readonly string[]): Promise<(T | undefined)[]> {
    if (!Array.isArray(keys)) return Promise.reject(new CacheKeyError('getMany expects an array of keys'));
    return Promise.all(keys.map((k) => this.get<T>(k)));
  }

  peek<T = unknown>(key: string): T | undefined {
    if (this.core.closed) throw new CacheClosedError();
    checkKey(key);
    return peek<T>(this, key);
  }

  // ---- writes ------------------------------------------------------------------------------

  set(key: string, value: unknown, options?: SetOptions): Promise<void> {
    const core = this.core;
    try {
      this.open();
      checkKey(key);
      const spec = writeSpec(core.o, options);
      const checked = core.codec.check(value);
      const sink = this.acc.sink;
      if (core.o.mode === 'memory') {
        const started = sink.now();
        writeMemory(this, memKey(this, key), checked, spec);
        sink.observe('set', 'memory', started);
        return core.resolved;
      }
      if (core.redis!.booting) return this.afterBoot(() => this.set(key, value, options));
      const started = sink.now();
      return write(this, this.keyPrefix + key, checked, spec).then((tier) => {
        sink.observe('set', tier, started);
      });
    } catch (error) {
      return Promise.reject(error);
    }
  }

  setMany(entries: readonly { key: string; value: unknown; options?: SetOptions }[]): Promise<void> {
    if (!Array.isArray(entries))
      return Promise.reject(new CacheOptionsError('setMany expects an array of { key, value, options? }'));
    return Promise.all(entries.map((e) => this.set(e.key, e.value, e.options))).then(() => undefined);
  }

  async delete(key: string): Promise<boolean> {
    this.open();
    checkKey(key);
    const core = this.core;
    if (core.redis?.booting) return this.afterBoot(() => this.delete(key));
    this.acc.deleted();
    const mem = memKey(this, key);
    let deleted = core.memory.delete(mem);
    if (core.redis !== undefined) deleted = (await deleteInRedis(this, this.keyPrefix + key)) || deleted;
    if (core.emitter.has('delete')) core.emitter.emit('delete', { key: mem });
    return deleted;
  }

  async deleteByTag(tag: string): Promise<number> {
    this.open();
    if (typeof tag !== 'string' || tag.length === 0) throw new CacheOptionsError('a tag must be a non-empty string');
    const core = this.core;
    if (core.redis?.booting) return this.afterBoot(() => this.deleteByTag(tag));
    const tagKey = core.ns.tagKey(this.keyPrefix, tag);
    const keys = new Set(core.memory.deleteTag(tagKey));
    await deleteTagInRedis(this, tagKey, keys);
    return keys.size;
  }

  async clear(): Promise<void> {
    this.open();
    const core = this.core;
    if (core.redis?.booting) return this.afterBoot(() => this.clear());
    core.memory.clear(this.memPrefix);
    await clearInRedis(this);
  }

  // ---- wrap ----------------------------------------------------------------------------------

  getOrSet<T>(key: string, factory: WrapFactory<T>, options?: WrapOptions): Promise<T> {
    return this.wrap(key, factory, options);
  }

  async wrap<T>(key: string, factory: WrapFactory<T>, options?: WrapOptions): Promise<T> {
    this.open();
    checkKey(key);
    if (typeof factory !== 'function') throw new CacheOptionsError('wrap expects a factory function');
    if (this.core.redis?.booting) return this.afterBoot(() => this.wrap(key, factory, options));
    return wrap(this, key, factory, options);
  }

  // ---- tenants, stats, events, lifecycle -----------------------------------------------------

  forTenant(tenantId: string | number): Cache {
    if (!this.isRoot)
      throw new CacheError('forTenant is only available on the root cache', { code: 'CACHE_NESTED_TENANT' });
    this.open();
    const id = keyPart(tenantId, 'tenant id');
    const core = this.core;
    let scope = core.tenants.get(id) as Scope | undefined;
    if (scope === undefined) {
      // Bound the per-tenant bookkeeping; the scopes beyond it still work, with unlisted stats.
      scope = new Scope(core, tenantPrefix(id), String(tenantId));
      if (core.tenants.size < MAX_TENANTS) core.tenants.set(id, scope);
    }
    return scope;
  }

  stats(): CacheStats {
    const core = this.core;
    const tenants: Record<string, CacheCounters> = {};
    if (this.isRoot)
      for (const scope of core.tenants.values()) tenants[scope.tenant!] = structuredClone(scope.acc.counters);
    const redis = core.redis;
    return {
      ...structuredClone(this.acc.counters),
      mode: core.o.mode,
      redis: redis === undefined ? 'none' : redis.usable ? 'up' : 'down',
      connection: redis?.status,
      breaker: redis === undefined ? 'none' : redis.breakerState,
      evictions: core.evictions,
      memory: {
        entries: core.memory.size,
        bytes: core.memory.bytes,
        maxEntries: core.o.maxEntries,
        maxBytes: core.o.maxBytes,
      },
      tenant: this.tenant,
      tenants,
    };
  }

  on<E extends CacheEventName>(event: E, listener: (payload: CacheEvents[E]) => void): () => void {
    if (typeof listener !== 'function') throw new CacheOptionsError('on expects a listener function');
    return this.core.emitter.on(event, listener);
  }

  async close(): Promise<void> {
    if (this.isRoot) await this.core.close();
  }

  private open(): void {
    if (this.core.closed) throw new CacheClosedError();
  }

  /**
   * Runs `operation` once the first connection is ready, or after `operationTimeoutMs` without it (then
   * from memory): a cache created a moment ago reads and writes Redis instead of missing.
   */
  private afterBoot<R>(operation: () => Promise<R>): Promise<R> {
    const core = this.core;
    return core.redis!.whenBooted(core.o.operationTimeoutMs).then(() => {
      if (core.closed) throw new CacheClosedError();
      return operation();
    });
  }
}

/** Creates a cache. Without `redis` it is memory only; with it, Redis is primary (see `mode`). */
export function createCache(options?: CacheOptions): Cache {
  return new Scope(new Core(options), '', undefined);
}
