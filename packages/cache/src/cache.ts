import { randomBytes } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';
import { performance } from 'node:perf_hooks';
import { Emitter, type CacheEventName, type CacheEvents } from './emitter.js';
import { CacheClosedError, CacheError, CacheFactoryTimeoutError, CacheKeyError, CacheOptionsError, CacheSerializationError, type CacheRedisError } from './errors.js';
import { keyPart } from './keys.js';
import { MemoryStore, entrySize, type MemoryEntry } from './memory-store.js';
import { CacheMetrics, type Tier } from './metrics.js';
import { resolveOptions, type CacheOptions, type ResolvedOptions } from './options.js';
import { RedisTier, type BreakerState, type Client } from './redis-tier.js';
import { builtinCodec, customCodec, type Checked, type Codec } from './custom-serializer.js';
import { checkTags, createFactoryContext, type FactoryContext, type FactoryDecisions } from './factory-context.js';
import { attachLogger } from './logger.js';
import { RedisFeatures } from './redis-version.js';
import { durationMs, type Duration } from './ttl.js';

/**
 * Deletes `keys` as one operation under one deadline (one breaker failure at most): one DEL, or one per key on a
 * Cluster, where the keys live in different slots.
 */
/** A per-call timeout of `wrap`: undefined when not given, else a positive number of ms. */
function positiveMs(v: unknown, what: string): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !(v > 0)) throw new CacheOptionsError(`${what} must be a positive number of ms`);
  return v;
}

function deleteAll(redis: RedisTier, keys: readonly string[]): Promise<unknown> {
  if (keys.length === 0) return Promise.resolve(0);
  return redis.exec<unknown>('DEL', (c) => (redis.cluster ? Promise.all(keys.map((k) => c.del(k))) : c.del(...keys)));
}

/** The TTL (seconds, or a string such as `'5m'`), or the per-call options of `set`. */
export type SetOptions =
  | Duration
  | {
      /** Seconds, or a string such as `'30s'`, `'5m'`, `'1h'`, `'1d'`. */
      ttl?: Duration;
      /** Tags for `deleteByTag`. */
      tags?: readonly string[];
      /** Grace (stale-if-error) for this entry: seconds or a string. */
      grace?: Duration;
      /** Accept a numeric `ttl`/`grace` above 30 days (numbers that large are usually milliseconds by mistake). */
      allowLongTtl?: boolean;
    };

/** The factory of `wrap`: computes the value; `ctx` adjusts how it is cached. */
export type WrapFactory<T> = (ctx: FactoryContext<T>) => T | Promise<T>;

/** The TTL (seconds, or a string such as `'5m'`), or the per-call options of `wrap`. */
export type WrapOptions =
  | Duration
  | {
      /** Seconds, or a string such as `'30s'`, `'5m'`, `'1h'`, `'1d'`; `ctx.setTtl` in the factory overrides it. */
      ttl?: Duration;
      /** Tags for `deleteByTag`; `ctx.setTags` in the factory overrides them. */
      tags?: readonly string[];
      /** Grace (stale-if-error) for this entry: seconds or a string. */
      grace?: Duration;
      /** Accept a numeric `ttl`/`grace` (and `ctx.setTtl`) above 30 days. */
      allowLongTtl?: boolean;
      /** Overrides the cache's `softTimeoutMs` for this call. */
      softTimeoutMs?: number;
      /** Overrides the cache's `hardTimeoutMs` for this call. */
      hardTimeoutMs?: number;
    };

/** Counters of one cache or one tenant. */
export interface CacheCounters {
  hits: { memory: number; redis: number };
  misses: { memory: number; redis: number };
  sets: number;
  deletes: number;
  /** Values `wrap` served past their TTL (grace). */
  staleServes: number;
  factoryCalls: number;
  factoryErrors: number;
  /** Redis errors absorbed (the call was served from memory). */
  errors: number;
  /** Redis operations that missed their deadline. */
  timeouts: number;
}

/** What `stats()` returns. */
export interface CacheStats extends CacheCounters {
  mode: 'memory' | 'fallback' | 'near';
  /** `none` without Redis; `up` while Redis is used; `down` while memory serves. */
  redis: 'none' | 'up' | 'down';
  /** The ioredis connection status (`ready`, `connecting`, `reconnecting`, ...), when there is Redis. */
  connection: string | undefined;
  breaker: BreakerState | 'none';
  /** Entries evicted from memory to respect the limits (whole cache). */
  evictions: number;
  memory: { entries: number; bytes: number; maxEntries: number; maxBytes: number };
  /** The tenant of a `forTenant` cache. */
  tenant: string | undefined;
  /** Per-tenant counters (root cache only). */
  tenants: Record<string, CacheCounters>;
}

/** The cache: the same API for memory-only, Redis with fallback, and near-cache modes. */
export interface Cache {
  /** The value, or `undefined` on a miss. Never rejects because of Redis. */
  get<T = unknown>(key: string): Promise<T | undefined>;
  /** Stores a value (rejects with `CacheSerializationError` if it cannot round-trip). */
  set(key: string, value: unknown, options?: SetOptions): Promise<void>;
  /** Deletes a key; true when something was deleted. */
  delete(key: string): Promise<boolean>;
  has(key: string): Promise<boolean>;
  /** The cached value, or the factory's (called once per key across callers and processes). */
  wrap<T>(key: string, factory: WrapFactory<T>, options?: WrapOptions): Promise<T>;
  /** Alias of `wrap`. */
  getOrSet<T>(key: string, factory: WrapFactory<T>, options?: WrapOptions): Promise<T>;
  getMany<T = unknown>(keys: readonly string[]): Promise<(T | undefined)[]>;
  setMany(entries: readonly { key: string; value: unknown; options?: SetOptions }[]): Promise<void>;
  /** Synchronous read of the in-memory tier only (no Redis, no stats). */
  peek<T = unknown>(key: string): T | undefined;
  /** Deletes every key written with this tag; resolves with how many keys went. */
  deleteByTag(tag: string): Promise<number>;
  /** Deletes every key of this cache's namespace (a tenant cache: only that tenant's keys). */
  clear(): Promise<void>;
  /** A cache whose keys live under the tenant's prefix and hash tag, with its own stats. */
  forTenant(tenantId: string | number): Cache;
  stats(): CacheStats;
  /** Subscribes to an event; returns the unsubscribe function. */
  on<E extends CacheEventName>(event: E, listener: (payload: CacheEvents[E]) => void): () => void;
  /** Closes what the cache created (never a client you passed in). A tenant cache's close is a no-op. */
  close(): Promise<void>;
}

const newCounters = (): CacheCounters => ({ hits: { memory: 0, redis: 0 }, misses: { memory: 0, redis: 0 }, sets: 0, deletes: 0, staleServes: 0, factoryCalls: 0, factoryErrors: 0, errors: 0, timeouts: 0 });

const MAX_OUTAGE_DELETES = 10_000;
const MAX_TENANTS = 10_000;

interface Read {
  value: unknown;
  fresh: boolean;
  expiresAt: number;
  ttlMs: number;
  tier: Tier;
}

/** Per-call state of one wrap: after one Redis failure the rest of the call stays in memory, so a call costs at most one deadline. */
interface CallState {
  redisFailed: boolean;
}

interface WriteSpec {
  ttlMs: number;
  graceMs: number;
  tags: readonly string[] | undefined;
  /** Whether a factory may set a numeric TTL above 30 days. */
  allowLongTtl: boolean;
}

interface WrapSpec extends WriteSpec {
  softTimeoutMs: number | undefined;
  hardTimeoutMs: number | undefined;
}

/** The write spec of a factory's result: its own TTL or tags (set through the factory context) win. */
function withDecisions(spec: WriteSpec, decisions: FactoryDecisions): WriteSpec {
  if (decisions.ttlMs === undefined && decisions.tags === undefined) return spec;
  const tags = decisions.tags === undefined ? spec.tags : decisions.tags.length === 0 ? undefined : decisions.tags;
  return { ttlMs: decisions.ttlMs ?? spec.ttlMs, graceMs: spec.graceMs, tags, allowLongTtl: spec.allowLongTtl };
}

// Redis record: "<j|t><expiresAt>:<ttlMs>:<body>". The logical expiry travels with the value
// because the Redis TTL also covers the grace period.
function toRecord(codec: Codec, checked: Checked, expiresAt: number, ttlMs: number): string {
  const encoded = codec.encode(checked);
  return `${encoded.tagged ? 't' : 'j'}${expiresAt}:${ttlMs}:${encoded.body}`;
}

function parseRecord(raw: string): { tagged: boolean; expiresAt: number; ttlMs: number; body: string } | undefined {
  const kind = raw.charCodeAt(0);
  if (kind !== 106 /* j */ && kind !== 116 /* t */) return undefined;
  // Two decimal fields, read without allocating substrings.
  let i = 1;
  let expiresAt = 0;
  let ttlMs = 0;
  for (let c = raw.charCodeAt(i); c >= 48 && c <= 57; c = raw.charCodeAt(++i)) expiresAt = expiresAt * 10 + (c - 48);
  if (i === 1 || raw.charCodeAt(i) !== 58 /* : */) return undefined;
  const start = ++i;
  for (let c = raw.charCodeAt(i); c >= 48 && c <= 57; c = raw.charCodeAt(++i)) ttlMs = ttlMs * 10 + (c - 48);
  if (i === start || raw.charCodeAt(i) !== 58) return undefined;
  return { tagged: kind === 116, expiresAt, ttlMs, body: raw.slice(i + 1) };
}

const escapeGlob = (s: string): string => s.replace(/[*?[\]\\]/g, '\\$&');

function checkKey(key: unknown): asserts key is string {
  if (typeof key !== 'string' || key.length === 0) throw new CacheKeyError('a cache key must be a non-empty string');
}

/** Everything the root cache and its tenant caches share. */
class Core {
  readonly o: ResolvedOptions;
  readonly memory: MemoryStore;
  readonly redis: RedisTier | undefined;
  readonly emitter = new Emitter();
  readonly metrics: CacheMetrics | undefined;
  readonly totals = newCounters();
  readonly tenants = new Map<string, Scope>();
  readonly flights = new Map<string, Promise<unknown>>();
  readonly waiters = new Map<string, Set<() => void>>();
  readonly outageDeletes = new Set<string>();
  readonly id = randomBytes(6).toString('base64url');
  readonly channel: string;
  /** `${prefix}:`: every Redis key of this cache starts with it; memory keys omit it. */
  readonly rootPrefix: string;
  readonly resolved: Promise<undefined> = Promise.resolve(undefined);
  /** How values are checked and encoded: the built-in encoding or the `serializer` option. */
  readonly codec: Codec;
  /** What the connected Redis supports (detected on every connect). */
  readonly features: RedisFeatures;
  evictions = 0;
  closed = false;
  private lockSeq = 0;

  constructor(options: CacheOptions | undefined) {
    this.o = resolveOptions(options);
    this.channel = `${this.o.prefix}!events`;
    this.rootPrefix = `${this.o.prefix}:`;
    this.metrics = this.o.registry ? new CacheMetrics(this.o.registry, this.o.name) : undefined;
    this.codec = this.o.serializer ? customCodec(this.o.serializer) : builtinCodec;
    this.features = new RedisFeatures(this.o.name, this.o.logger, (error) => this.onRedisError(error, 'version'));
    if (this.o.logger) attachLogger(this.emitter, this.o.logger, this.o.name);
    this.memory = new MemoryStore({
      maxEntries: this.o.maxEntries,
      maxBytes: this.o.maxBytes,
      onEvict: (key) => {
        this.evictions++;
        this.metrics?.evicted();
        if (this.emitter.has('evict')) this.emitter.emit('evict', { key });
      },
    });
    if (this.o.mode !== 'memory') {
      const needsChannel = this.o.mode === 'near' || this.o.distributedLock;
      this.redis = new RedisTier(
        this.o,
        {
          up: () => this.onRedisUp(),
          down: (reason) => {
            this.metrics?.redis(false);
            this.emitter.emit('redis:down', { reason });
          },
          error: (error, operation) => this.onRedisError(error, operation),
          breaker: (state) => {
            this.metrics?.breakerState(state);
            this.emitter.emit('breaker', { state });
          },
          message: (message) => this.onMessage(message),
          resubscribed: () => {
            // Invalidations sent while the subscriber was away are lost: forget local copies.
            if (this.o.mode === 'near') this.memory.clear('');
          },
        },
        needsChannel ? this.channel : undefined,
      );
      this.metrics?.breakerState('closed');
      this.metrics?.redis(this.redis.usable);
    }
  }

  private cachedNow = 0;

  /**
   * A clock for `peek` that reads Date.now() at most about once per millisecond (like lru-cache's
   * `ttlResolution`): `peek` is the synchronous hot path, and the clock read was most of its cost.
   * Within one synchronous run the time stands still, so an entry may be served up to one event-loop
   * turn past its expiry.
   */
  coarseNow(): number {
    if (this.cachedNow !== 0) return this.cachedNow;
    this.cachedNow = Date.now();
    setTimeout(() => {
      this.cachedNow = 0;
    }, 1).unref();
    return this.cachedNow;
  }

  /** The memory key of a Redis key (the namespace prefix is implied in memory). */
  mk(full: string): string {
    return full.slice(this.rootPrefix.length);
  }

  /** Registers the one computation of `full` in this process until it settles (a later one may replace it). */
  track<T>(full: string, flight: Promise<T>): Promise<T> {
    this.flights.set(full, flight);
    const done = () => {
      if (this.flights.get(full) === flight) this.flights.delete(full);
    };
    flight.then(done, done);
    return flight;
  }

  /** Takes the cross-process lock of `full` for `lockLeaseMs`: true if taken, false if held elsewhere, undefined if Redis failed. */
  tryLock(full: string, token: string): Promise<boolean | undefined> {
    return this.redis!.exec('SET NX', (c) => c.set(this.lockKey(full), token, 'PX', this.o.lockLeaseMs, 'NX')).then(
      (reply) => reply === 'OK',
      () => undefined,
    );
  }

  /**
   * Renews the lease of a lock this process holds every third of `lockLeaseMs` until the returned function is called,
   * so a factory that runs longer than the lease keeps it; a holder that dies stops renewing and the lease runs out.
   */
  keepLock(full: string, token: string): () => void {
    const key = this.lockKey(full);
    const lease = this.o.lockLeaseMs;
    const timer = setInterval(() => {
      void this.redis!
        .exec('EVAL', (c) => c.eval("if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) end return 0", 1, key, token, lease) as Promise<unknown>)
        .catch(() => {
          // a renewal that fails leaves the lease to run out, as for a holder that died
        });
    }, Math.max(1, Math.floor(lease / 3)));
    timer.unref();
    return () => clearInterval(timer);
  }

  lockKey(full: string): string {
    return `${this.o.prefix}!lock:${full}`;
  }

  tagKey(scopePrefix: string, tag: string): string {
    return `${this.o.prefix}!tag:${scopePrefix}${tag}`;
  }

  token(): string {
    return `${this.id}:${++this.lockSeq}`;
  }

  jitter(ttlMs: number): number {
    const j = this.o.ttlJitter;
    return j === 0 ? ttlMs : Math.max(1, Math.round(ttlMs * (1 + (Math.random() * 2 - 1) * j)));
  }

  publish(type: string, payload: string): void {
    this.redis?.publish(`${this.id}|${type}|${payload}`);
  }

  /** Registers a waiter for a key's lock release; resolves on the pub/sub wake or after `ms`. */
  waitFor(full: string, ms: number): { promise: Promise<void>; cancel: () => void } {
    let set = this.waiters.get(full);
    if (!set) this.waiters.set(full, (set = new Set()));
    let done!: () => void;
    const promise = new Promise<void>((resolve) => (done = resolve));
    const timer = setTimeout(() => wake(), ms);
    timer.unref();
    const wake = () => {
      clearTimeout(timer);
      set.delete(wake);
      if (set.size === 0 && this.waiters.get(full) === set) this.waiters.delete(full);
      done();
    };
    set.add(wake);
    return { promise, cancel: wake };
  }

  private onMessage(message: string): void {
    const a = message.indexOf('|');
    const b = a < 0 ? -1 : message.indexOf('|', a + 1);
    if (b < 0) return;
    const origin = message.slice(0, a);
    const type = message.slice(a + 1, b);
    const payload = message.slice(b + 1);
    if (type === 'w') {
      const set = this.waiters.get(payload);
      if (set) for (const wake of [...set]) wake();
      return;
    }
    if (origin === this.id || this.o.mode !== 'near') return;
    if (type === 'i') this.invalidate(this.mk(payload));
    else if (type === 'm') {
      try {
        for (const key of JSON.parse(payload) as string[]) this.invalidate(this.mk(key));
      } catch {
        // a malformed message from a foreign publisher: ignore it
      }
    } else if (type === 'c') this.memory.clear(this.mk(payload));
  }

  private invalidate(key: string): void {
    if (this.memory.delete(key) && this.emitter.has('invalidate')) this.emitter.emit('invalidate', { key });
  }

  private onRedisUp(): void {
    // Entries written while Redis was away may be stale for other instances: drop them, and
    // replay the deletes that could not reach Redis.
    this.memory.clear('');
    const deletes = [...this.outageDeletes];
    this.outageDeletes.clear();
    // In chunks, each one operation under one deadline: thousands of single DELs at once would time out together.
    for (let i = 0; i < deletes.length; i += 500) {
      deleteAll(this.redis!, deletes.slice(i, i + 500)).catch(() => {
        // the breaker will see it; the keys keep their TTL
      });
    }
    this.metrics?.redis(true);
    void this.features.detect((command) => this.redis!.exec('INFO', command));
    this.emitter.emit('redis:up', {});
  }

  private onRedisError(error: CacheRedisError, operation: string): void {
    if (error.code === 'CACHE_REDIS_TIMEOUT') {
      this.totals.timeouts++;
      this.metrics?.error('timeout');
    } else {
      this.totals.errors++;
      this.metrics?.error('error');
    }
    this.emitter.emit('error', { error, operation });
  }

  rememberOutageDelete(full: string): void {
    if (this.o.mode === 'memory') return;
    if (this.outageDeletes.size >= MAX_OUTAGE_DELETES) return;
    this.outageDeletes.add(full);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const set of this.waiters.values()) for (const wake of [...set]) wake();
    await this.redis?.close();
    this.memory.clear('');
    this.emitter.clear();
  }
}

/** The root cache (empty tenant) or one tenant's cache. */
class Scope implements Cache {
  readonly counters: CacheCounters;
  private readonly isRoot: boolean;
  /** Prefix of Redis keys: the namespace, then the tenant part. */
  private readonly keyPrefix: string;

  constructor(
    private readonly core: Core,
    /** Prefix of memory keys: '' for the root cache, `t:{id}:` for a tenant. */
    private readonly memPrefix: string,
    private readonly tenant: string | undefined,
  ) {
    this.keyPrefix = core.rootPrefix + memPrefix;
    this.isRoot = tenant === undefined;
    this.counters = this.isRoot ? core.totals : newCounters();
  }

  // ---- reads -------------------------------------------------------------------------------

  get<T = unknown>(key: string): Promise<T | undefined> {
    const core = this.core;
    if (core.closed) return Promise.reject(new CacheClosedError());
    if (typeof key !== 'string' || key.length === 0) return Promise.reject(new CacheKeyError('a cache key must be a non-empty string'));
    if (core.o.mode === 'memory' && core.metrics === undefined) {
      // The hot path of memory-only caches: no key concatenation for the root, no promise chain.
      const mem = this.memPrefix === '' ? key : this.memPrefix + key;
      const now = Date.now();
      const entry = core.memory.entry(mem, now);
      if (entry !== undefined && entry.expiresAt > now) {
        this.hit(mem, 'memory', false);
        return Promise.resolve(entry.value as T);
      }
      this.miss(mem, 'memory', false);
      return core.resolved;
    }
    const full = this.keyPrefix + key;
    const redis = core.redis;
    if (redis?.booting) return this.afterBoot(() => this.get<T>(key));
    if (redis !== undefined && core.o.mode === 'fallback' && core.metrics === undefined && redis.usable) {
      // The hot path through Redis: one promise for the command, one continuation, no Read object.
      return redis.get(
        full,
        (raw) => this.fromRedis<T>(full, raw),
        () => {
          const r = this.readMemory(full, false, true);
          return r?.fresh ? (r.value as T) : undefined;
        },
      );
    }
    return this.timed('get', this.read(full, false, true)).then((r) => (r?.fresh ? (r.value as T) : undefined));
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

  private fromRedis<T>(full: string, raw: string | null): T | undefined {
    const record = raw === null ? undefined : parseRecord(raw);
    if (record === undefined || record.expiresAt <= Date.now()) {
      this.miss(full, 'redis');
      return undefined;
    }
    let value: unknown;
    try {
      value = this.core.codec.decode(record.tagged, record.body);
    } catch {
      this.miss(full, 'redis');
      return undefined;
    }
    this.hit(full, 'redis');
    return value as T;
  }

  async has(key: string): Promise<boolean> {
    this.open();
    checkKey(key);
    if (this.core.redis?.booting) return this.afterBoot(() => this.has(key));
    const r = await this.read(this.keyPrefix + key, false, false);
    return r?.fresh === true;
  }

  getMany<T = unknown>(keys: readonly string[]): Promise<(T | undefined)[]> {
    if (!Array.isArray(keys)) return Promise.reject(new CacheKeyError('getMany expects an array of keys'));
    return Promise.all(keys.map((k) => this.get<T>(k)));
  }

  peek<T = unknown>(key: string): T | undefined {
    if (this.core.closed) throw new CacheClosedError();
    checkKey(key);
    const now = this.core.coarseNow();
    const entry = this.core.memory.entry(this.memPrefix === '' ? key : this.memPrefix + key, now);
    return entry !== undefined && entry.expiresAt > now ? (entry.value as T) : undefined;
  }

  /**
   * Reads a key from the tiers the mode uses. `allowStale` also returns entries past their TTL
   * but within grace (for wrap). Redis failures fall back to memory, never to the caller.
   */
  private async read(full: string, allowStale: boolean, count: boolean, call?: CallState, ordered = false): Promise<Read | undefined> {
    const core = this.core;
    const mode = core.o.mode;
    const redis = core.redis;
    const skipRedis = mode === 'memory' || !redis!.usable || call?.redisFailed === true;
    const useMemoryFirst = skipRedis || mode === 'near';
    let stale: Read | undefined;
    if (useMemoryFirst) {
      const m = this.readMemory(full, true, count);
      if (m?.fresh) return m;
      stale = m;
      if (skipRedis) return allowStale ? stale : undefined;
    }
    let raw: string | null;
    try {
      // `ordered`: sent at once behind the command before it on the connection; otherwise batched with the tick's GETs.
      raw = await (ordered ? redis!.exec('GET', (c) => c.get(full)) : redis!.fetch(full));
    } catch {
      if (call) call.redisFailed = true;
      // Served from memory while Redis misbehaves (fallback mode had not looked there yet).
      if (mode === 'fallback') return this.readMemory(full, allowStale, count);
      return allowStale ? stale : undefined;
    }
    const record = raw === null ? undefined : parseRecord(raw);
    if (record === undefined) {
      if (count) this.miss(full, 'redis');
      return allowStale ? stale : undefined;
    }
    const fresh = record.expiresAt > Date.now();
    // A record past its TTL is only decoded when the caller may serve it stale (wrap's grace).
    if (!fresh && !allowStale) {
      if (count) this.miss(full, 'redis');
      return undefined;
    }
    let value: unknown;
    try {
      value = this.core.codec.decode(record.tagged, record.body);
    } catch {
      if (count) this.miss(full, 'redis');
      return allowStale ? stale : undefined;
    }
    if (count) {
      if (fresh) this.hit(full, 'redis');
      else this.miss(full, 'redis');
    }
    if (fresh && mode === 'near') {
      const nearUntil = Math.min(record.expiresAt, Date.now() + core.o.nearCacheTtlMs);
      const mem = core.mk(full);
      // The JSON length stands in for the heap size: an inspection per near-cache fill is not worth it.
      core.memory.set(mem, { value, expiresAt: nearUntil, staleUntil: nearUntil, ttlMs: record.ttlMs, tags: undefined, size: entrySize(record.body.length, mem) }, undefined);
    }
    return { value, fresh, expiresAt: record.expiresAt, ttlMs: record.ttlMs, tier: 'redis' };
  }

  /** The memory tier's entry of a key (fresh, or stale when `allowStale`), counted as a memory hit or miss. */
  private readMemory(full: string, allowStale: boolean, count: boolean): Read | undefined {
    const now = Date.now();
    const entry = this.core.memory.entry(this.core.mk(full), now);
    if (entry === undefined) {
      if (count) this.miss(full, 'memory');
      return undefined;
    }
    const r: Read = { value: entry.value, fresh: entry.expiresAt > now, expiresAt: entry.expiresAt, ttlMs: entry.ttlMs, tier: 'memory' };
    if (count) {
      if (r.fresh) this.hit(full, 'memory');
      else this.miss(full, 'memory');
    }
    return r.fresh || allowStale ? r : undefined;
  }

  // ---- writes ------------------------------------------------------------------------------

  set(key: string, value: unknown, options?: SetOptions): Promise<void> {
    const core = this.core;
    try {
      this.open();
      checkKey(key);
      const spec = this.writeSpec(options);
      const checked = core.codec.check(value);
      if (core.o.mode === 'memory' && core.metrics === undefined) {
        // Memory-only hot path: synchronous, no promise chain.
        this.writeMemory(this.memPrefix === '' ? key : this.memPrefix + key, checked, spec);
        return core.resolved;
      }
      if (core.redis?.booting) return this.afterBoot(() => this.set(key, value, options));
      return this.timed('set', this.write(this.keyPrefix + key, checked, spec)).then(() => undefined);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  private writeMemory(mem: string, checked: Checked, spec: WriteSpec): void {
    const core = this.core;
    const ttlMs = core.jitter(spec.ttlMs);
    const expiresAt = Date.now() + ttlMs;
    this.counters.sets++;
    if (!this.isRoot) core.totals.sets++;
    const tagKeys = spec.tags?.map((t) => core.tagKey(this.keyPrefix, t));
    core.memory.set(mem, { value: checked.value, expiresAt, staleUntil: expiresAt + spec.graceMs, ttlMs, tags: undefined, size: entrySize(checked.size, mem) }, tagKeys);
    if (core.emitter.has('set')) core.emitter.emit('set', { key: mem, tier: 'memory' });
  }

  setMany(entries: readonly { key: string; value: unknown; options?: SetOptions }[]): Promise<void> {
    if (!Array.isArray(entries)) return Promise.reject(new CacheOptionsError('setMany expects an array of { key, value, options? }'));
    return Promise.all(entries.map((e) => this.set(e.key, e.value, e.options))).then(() => undefined);
  }

  private writeSpec(options: SetOptions | undefined): WriteSpec {
    const o = this.core.o;
    const allowLong = o.allowLongTtl;
    if (options === undefined) return { ttlMs: o.defaultTtlMs, graceMs: o.graceMs, tags: undefined, allowLongTtl: allowLong };
    if (typeof options === 'number' || typeof options === 'string') {
      return { ttlMs: durationMs(options, 'ttl', { allowZero: false, allowLong }), graceMs: o.graceMs, tags: undefined, allowLongTtl: allowLong };
    }
    if (typeof options !== 'object' || options === null) throw new CacheOptionsError("the options of set/wrap must be a TTL (seconds or a string like '5m') or an object");
    if (options.allowLongTtl !== undefined && typeof options.allowLongTtl !== 'boolean') throw new CacheOptionsError('allowLongTtl must be a boolean');
    const rules = { allowZero: false, allowLong: options.allowLongTtl ?? allowLong };
    return {
      ttlMs: options.ttl === undefined ? o.defaultTtlMs : durationMs(options.ttl, 'ttl', rules),
      graceMs: options.grace === undefined ? o.graceMs : durationMs(options.grace, 'grace', { ...rules, allowZero: true }),
      tags: checkTags(options.tags),
      allowLongTtl: rules.allowLong,
    };
  }

  private async write(full: string, checked: Checked, spec: WriteSpec, call?: CallState): Promise<Tier> {
    const core = this.core;
    const now = Date.now();
    const ttlMs = core.jitter(spec.ttlMs);
    const expiresAt = now + ttlMs;
    const staleUntil = expiresAt + spec.graceMs;
    const tagKeys = spec.tags?.map((t) => core.tagKey(this.keyPrefix, t));
    this.counters.sets++;
    if (!this.isRoot) core.totals.sets++;
    const redis = core.redis;
    const mem = core.mk(full);
    const size = entrySize(checked.size, mem);
    const entry = (until: number, stale: number): MemoryEntry => ({ value: checked.value, expiresAt: until, staleUntil: stale, ttlMs, tags: undefined, size });
    let tier: Tier = 'memory';
    if (redis !== undefined && redis.usable && call?.redisFailed !== true) {
      try {
        const px = Math.max(1, staleUntil - now);
        const record = toRecord(core.codec, checked, expiresAt, ttlMs);
        // One logical write is one deadline and at most one breaker failure, however many tags it carries: the
        // commands are sent together (one after the other on the socket, in any slot of a Cluster).
        await redis.exec<unknown>(tagKeys ? 'SET+tags' : 'SET', (c) => {
          const set = c.set(full, record, 'PX', px);
          if (!tagKeys) return set;
          const writes: Promise<unknown>[] = [set];
          for (const tagKey of tagKeys) {
            writes.push(c.sadd(tagKey, full));
            // The tag set lives as long as its longest-lived member.
            writes.push(...core.features.tagExpiry(c, tagKey, px));
          }
          return Promise.all(writes);
        });
        tier = 'redis';
        if (core.o.mode === 'near') {
          const nearUntil = Math.min(expiresAt, now + core.o.nearCacheTtlMs);
          core.memory.set(mem, entry(nearUntil, nearUntil), tagKeys);
          core.publish('i', full);
        } else {
          // A copy written during an outage must not shadow the new value if Redis fails again.
          core.memory.delete(mem);
        }
      } catch {
        if (call) call.redisFailed = true;
        core.memory.set(mem, entry(expiresAt, staleUntil), tagKeys);
      }
    } else {
      core.memory.set(mem, entry(expiresAt, staleUntil), tagKeys);
    }
    if (core.emitter.has('set')) core.emitter.emit('set', { key: mem, tier });
    return tier;
  }

  async delete(key: string): Promise<boolean> {
    this.open();
    checkKey(key);
    const core = this.core;
    if (core.redis?.booting) return this.afterBoot(() => this.delete(key));
    const full = this.keyPrefix + key;
    this.counters.deletes++;
    if (!this.isRoot) core.totals.deletes++;
    const mem = this.memPrefix === '' ? key : this.memPrefix + key;
    let deleted = core.memory.delete(mem);
    const redis = core.redis;
    if (redis !== undefined) {
      if (redis.usable) {
        try {
          deleted = (await redis.exec('DEL', (c) => c.del(full))) > 0 || deleted;
          if (core.o.mode === 'near') core.publish('i', full);
        } catch {
          core.rememberOutageDelete(full);
        }
      } else {
        core.rememberOutageDelete(full);
      }
    }
    if (core.emitter.has('delete')) core.emitter.emit('delete', { key: mem });
    return deleted;
  }

  async deleteByTag(tag: string): Promise<number> {
    this.open();
    if (typeof tag !== 'string' || tag.length === 0) throw new CacheOptionsError('a tag must be a non-empty string');
    const core = this.core;
    if (core.redis?.booting) return this.afterBoot(() => this.deleteByTag(tag));
    const tagKey = core.tagKey(this.keyPrefix, tag);
    const keys = new Set(core.memory.deleteTag(tagKey));
    const redis = core.redis;
    if (redis !== undefined && redis.usable) {
      try {
        const members = await redis.exec('SMEMBERS', (c) => c.smembers(tagKey));
        await deleteAll(redis, [...members, tagKey]);
        for (const k of members) {
          const m = core.mk(k);
          keys.add(m);
          core.memory.delete(m);
        }
        if (core.o.mode === 'near' && members.length > 0) core.publish('m', JSON.stringify(members));
      } catch {
        for (const k of keys) core.rememberOutageDelete(core.rootPrefix + k);
      }
    }
    return keys.size;
  }

  async clear(): Promise<void> {
    this.open();
    const core = this.core;
    if (core.redis?.booting) return this.afterBoot(() => this.clear());
    core.memory.clear(this.memPrefix);
    const redis = core.redis;
    if (redis === undefined || !redis.usable) return;
    const patterns = [`${escapeGlob(this.keyPrefix)}*`, `${escapeGlob(core.tagKey(this.keyPrefix, ''))}*`];
    const nodes: Client[] = redis.cluster ? (redis.client as Cluster).nodes('master') : [redis.client];
    const budget = Math.max(2_000, core.o.operationTimeoutMs * 40);
    try {
      for (const node of nodes) {
        for (const pattern of patterns) {
          let cursor = '0';
          do {
            const [next, keys] = await redis.slow('SCAN', budget, () => (node as Redis).scan(cursor, 'MATCH', pattern, 'COUNT', 1000));
            cursor = next;
            if (keys.length > 0) {
              if (redis.cluster) await redis.slow('UNLINK', budget, () => Promise.all(keys.map((k) => (node as Redis).unlink(k))));
              else await redis.slow('UNLINK', budget, () => (node as Redis).unlink(...keys));
            }
          } while (cursor !== '0');
        }
      }
    } catch {
      // Redis went away mid-clear; what is left keeps its TTL.
    }
    if (core.o.mode === 'near') core.publish('c', this.keyPrefix);
  }

  // ---- wrap ----------------------------------------------------------------------------------

  getOrSet<T>(key: string, factory: WrapFactory<T>, options?: WrapOptions): Promise<T> {
    return this.wrap(key, factory, options);
  }

  async wrap<T>(key: string, factory: WrapFactory<T>, options?: WrapOptions): Promise<T> {
    this.open();
    checkKey(key);
    if (typeof factory !== 'function') throw new CacheOptionsError('wrap expects a factory function');
    const core = this.core;
    if (core.redis?.booting) return this.afterBoot(() => this.wrap(key, factory, options));
    const spec = this.wrapSpec(options);
    const full = this.keyPrefix + key;
    const redis = core.redis;
    const started = core.metrics ? performance.now() : 0;
    if (core.o.mode !== 'fallback' || !redis!.usable) {
      const now = Date.now();
      const entry = core.memory.entry(this.memPrefix === '' ? key : this.memPrefix + key, now);
      if (entry !== undefined && entry.expiresAt > now) {
        this.hit(full, 'memory');
        this.maybeRefresh(full, entry.expiresAt, entry.ttlMs, factory, spec);
        if (core.metrics) core.metrics.observe('wrap', 'memory', (performance.now() - started) / 1000);
        return entry.value as T;
      }
    }
    let flight = core.flights.get(full) as Promise<T> | undefined;
    if (flight === undefined) flight = core.track(full, this.fly(full, factory, spec));
    const value = await flight;
    if (core.metrics) core.metrics.observe('wrap', redis?.usable ? 'redis' : 'memory', (performance.now() - started) / 1000);
    return value;
  }

  private wrapSpec(options: WrapOptions | undefined): WrapSpec {
    // Built on the write spec in place (it is a fresh object): no copy per wrap call.
    const spec = this.writeSpec(options as SetOptions | undefined) as WrapSpec;
    const o = this.core.o;
    const own = typeof options === 'object' && options !== null ? options : undefined;
    spec.softTimeoutMs = positiveMs(own?.softTimeoutMs, 'softTimeoutMs') ?? o.softTimeoutMs;
    spec.hardTimeoutMs = positiveMs(own?.hardTimeoutMs, 'hardTimeoutMs') ?? o.hardTimeoutMs;
    return spec;
  }

  /** One computation per key and process: read, take the cross-process lock or wait, compute. */
  private async fly<T>(full: string, factory: WrapFactory<T>, spec: WrapSpec): Promise<T> {
    const core = this.core;
    const call: CallState = { redisFailed: false };
    const first = await this.read(full, true, true, call);
    if (first?.fresh) {
      // This flight is the one registered for the key: let the refresh replace it.
      this.maybeRefresh(full, first.expiresAt, first.ttlMs, factory, spec, true);
      return first.value as T;
    }
    let stale = first;
    let token: string | undefined;
    if (core.redis !== undefined && core.o.distributedLock && core.redis.usable && !call.redisFailed) {
      const outcome = await this.lockOrWait(full, call, spec.hardTimeoutMs);
      if (outcome.value !== undefined) return outcome.value.value as T;
      token = outcome.token;
      stale = outcome.stale ?? stale;
    }
    const release = token === undefined ? undefined : core.keepLock(full, token);
    try {
      return await this.compute(full, factory, spec, stale, call);
    } finally {
      if (token !== undefined) {
        release!();
        this.unlock(full, token);
      }
    }
  }

  /**
   * Takes the Redis lock of a key, or waits for its holder to publish the value. Waiters are woken
   * over pub/sub; a short poll covers a lost message or a subscriber that is not connected. The holder
   * renews its lease while its factory runs, so a waiter waits as long as the lock is held (a holder that
   * dies frees it within `lockLeaseMs`), and at most `maxWaitMs` (the caller's hard timeout) when given.
   */
  private async lockOrWait(full: string, call: CallState, maxWaitMs: number | undefined): Promise<{ token?: string; value?: Read; stale?: Read }> {
    const core = this.core;
    const redis = core.redis!;
    const token = core.token();
    const startedAt = Date.now();
    const capAt = maxWaitMs === undefined ? Infinity : startedAt + maxWaitMs;
    let giveUpAt = Math.min(capAt, startedAt + core.o.lockLeaseMs);
    let stale: Read | undefined;
    while (!core.closed && redis.usable && !call.redisFailed && Date.now() < giveUpAt) {
      // The poll only covers a lost wake-up (or a subscriber that is not subscribed yet).
      const pollMs = redis.subscriberReady ? 100 : 25;
      const wait = core.waitFor(full, Math.min(pollMs, Math.max(1, giveUpAt - Date.now())));
      const locking = core.tryLock(full, token);
      // On one connection, a GET sent right behind SET NX sees the state after it: this is the
      // double-check (did the previous holder store the value?) without an extra round trip. A
      // cluster may route the two to different nodes, so there the check waits for the lock.
      const reading = redis.cluster ? undefined : this.read(full, true, false, call, true);
      const acquired = await locking;
      if (acquired === undefined) {
        wait.cancel();
        call.redisFailed = true;
        return { stale };
      }
      const current = await (reading ?? (acquired ? this.read(full, true, false, call) : undefined));
      if (current?.fresh) {
        wait.cancel();
        if (acquired) this.unlock(full, token);
        return { value: current };
      }
      if (current) stale = current;
      if (acquired) {
        wait.cancel();
        return { token, stale };
      }
      // Held: by a live holder that renews it, or by a dead one whose lease runs out within lockLeaseMs.
      giveUpAt = Math.min(capAt, Date.now() + core.o.lockLeaseMs);
      await wait.promise;
      const r = await this.read(full, true, true, call);
      if (r?.fresh) return { value: r };
      if (r) stale = r;
    }
    return { stale };
  }

  private unlock(full: string, token: string): void {
    const core = this.core;
    const redis = core.redis!;
    // Delete the lock only if we still hold it (the lease may have passed to another process).
    const released = redis
      .exec('EVAL', (c) => c.eval("if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0", 1, core.lockKey(full), token) as Promise<unknown>)
      .catch(() => {
        // the lease expires by itself
      });
    // On one connection the wake-up goes out right behind the unlock (Redis runs them in order, so a woken
    // waiter finds the lock gone and the value written) instead of one round trip later. A Cluster may
    // route the two to different nodes: there it waits for the unlock.
    if (redis.cluster) void released.finally(() => core.publish('w', full));
    else core.publish('w', full);
  }

  private async compute<T>(full: string, factory: WrapFactory<T>, spec: WrapSpec, stale: Read | undefined, call?: CallState): Promise<T> {
    const core = this.core;
    this.counters.factoryCalls++;
    if (!this.isRoot) core.totals.factoryCalls++;
    const { context, decisions } = createFactoryContext<T>(full.slice(this.keyPrefix.length), stale, spec.allowLongTtl);
    const run = (async () => {
      const value = await factory(context);
      if (value !== undefined && !decisions.skipped) await this.write(full, core.codec.check(value), withDecisions(spec, decisions), call);
      return value;
    })();
    run.catch((error: unknown) => {
      if (!(error instanceof CacheSerializationError)) {
        this.counters.factoryErrors++;
        if (!this.isRoot) core.totals.factoryErrors++;
      }
    });
    const racers: Promise<T>[] = [run];
    const timers: NodeJS.Timeout[] = [];
    if (spec.hardTimeoutMs !== undefined) {
      const ms = spec.hardTimeoutMs;
      racers.push(new Promise<T>((_, reject) => timers.push(setTimeout(() => reject(new CacheFactoryTimeoutError(ms)), ms))));
    }
    if (stale !== undefined && spec.softTimeoutMs !== undefined) {
      racers.push(
        new Promise<T>((resolve) =>
          timers.push(
            setTimeout(() => {
              this.served(full, 'soft-timeout');
              resolve(stale.value as T);
            }, spec.softTimeoutMs),
          ),
        ),
      );
    }
    try {
      return racers.length === 1 ? await run : await Promise.race(racers);
    } catch (error) {
      // Stale-if-error: within grace, the last value beats an error (never for a value we refused).
      if (stale !== undefined && !(error instanceof CacheSerializationError)) {
        this.served(full, 'error');
        return stale.value as T;
      }
      throw error;
    } finally {
      for (const t of timers) clearTimeout(t);
    }
  }

  private maybeRefresh<T>(full: string, expiresAt: number, ttlMs: number, factory: WrapFactory<T>, spec: WrapSpec, fromFlight = false): void {
    const ratio = this.core.o.refreshAhead;
    if (ratio === undefined || (!fromFlight && this.core.flights.has(full))) return;
    if (expiresAt - Date.now() > ttlMs * (1 - ratio)) return;
    const core = this.core;
    const flight = (async () => {
      let token: string | undefined;
      if (core.redis !== undefined && core.o.distributedLock && core.redis.usable) {
        const t = core.token();
        if ((await core.tryLock(full, t)) !== true) return undefined;
        token = t;
      }
      const release = token === undefined ? undefined : core.keepLock(full, token);
      try {
        return await this.compute(full, factory, { ...spec, softTimeoutMs: undefined, hardTimeoutMs: undefined }, undefined);
      } finally {
        if (token !== undefined) {
          release!();
          this.unlock(full, token);
        }
      }
    })();
    flight.catch(() => {
      // a failed background refresh leaves the current value in place
    });
    core.track(full, flight);
  }

  // ---- tenants, stats, events, lifecycle -----------------------------------------------------

  forTenant(tenantId: string | number): Cache {
    if (!this.isRoot) throw new CacheError('forTenant is only available on the root cache', { code: 'CACHE_NESTED_TENANT' });
    this.open();
    const id = keyPart(tenantId, 'tenant id');
    const core = this.core;
    let scope = core.tenants.get(id);
    if (scope === undefined) {
      // Bound the per-tenant bookkeeping; the scopes beyond it still work, with unlisted stats.
      scope = new Scope(core, `t:{${id}}:`, String(tenantId));
      if (core.tenants.size < MAX_TENANTS) core.tenants.set(id, scope);
    }
    return scope;
  }

  stats(): CacheStats {
    const core = this.core;
    const c = this.counters;
    const tenants: Record<string, CacheCounters> = {};
    if (this.isRoot) for (const scope of core.tenants.values()) tenants[scope.tenant!] = structuredClone(scope.counters);
    const redis = core.redis;
    return {
      ...structuredClone(c),
      mode: core.o.mode,
      redis: redis === undefined ? 'none' : redis.usable ? 'up' : 'down',
      connection: redis?.status,
      breaker: redis === undefined ? 'none' : redis.breakerState,
      evictions: core.evictions,
      memory: { entries: core.memory.size, bytes: core.memory.bytes, maxEntries: core.o.maxEntries, maxBytes: core.o.maxBytes },
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

  // ---- accounting ------------------------------------------------------------------------------

  private open(): void {
    if (this.core.closed) throw new CacheClosedError();
  }

  /** `key` is a Redis key unless `isFull` is false (then a memory key); events carry the memory key. */
  private hit(key: string, tier: Tier, isFull = true): void {
    this.counters.hits[tier]++;
    const core = this.core;
    if (!this.isRoot) core.totals.hits[tier]++;
    if (core.metrics !== undefined) core.metrics.hit(tier);
    if (core.emitter.has('hit')) core.emitter.emit('hit', { key: isFull ? core.mk(key) : key, tier });
  }

  private miss(key: string, tier: Tier, isFull = true): void {
    this.counters.misses[tier]++;
    const core = this.core;
    if (!this.isRoot) core.totals.misses[tier]++;
    if (core.metrics !== undefined) core.metrics.miss(tier);
    if (core.emitter.has('miss')) core.emitter.emit('miss', { key: isFull ? core.mk(key) : key });
  }

  private served(full: string, reason: 'error' | 'soft-timeout'): void {
    this.counters.staleServes++;
    if (!this.isRoot) this.core.totals.staleServes++;
    this.core.metrics?.staleServed();
    this.core.emitter.emit('stale', { key: this.core.mk(full), reason });
  }

  private timed<T>(operation: string, promise: Promise<T>): Promise<T> {
    const metrics = this.core.metrics;
    if (metrics === undefined) return promise;
    const started = performance.now();
    return promise.then((result) => {
      const tier: Tier = typeof result === 'string' ? (result as Tier) : (result as Read | undefined)?.tier ?? (this.core.redis?.usable ? 'redis' : 'memory');
      metrics.observe(operation, tier, (performance.now() - started) / 1000);
      return result;
    });
  }
}

/** Creates a cache. Without `redis` it is memory only; with it, Redis is primary (see `mode`). */
export function createCache(options?: CacheOptions): Cache {
  const core = new Core(options);
  return new Scope(core, '', undefined);
}
