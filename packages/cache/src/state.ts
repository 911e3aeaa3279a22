/**
 * The state a root cache and its tenant caches share, as the modules that read and write it see it: `CacheState`
 * (implemented by `Core`, core.ts), one cache's view of it (`ScopeRef`), and the narrow faces of the helpers Core
 * owns (single-flight, invalidation, outage replay). Every module depends on these types, never on core.ts, so the
 * modules form no import cycle.
 */
import type { Accounting, MetricsSink, Tier } from './accounting.js';
import type { Codec } from './custom-serializer.js';
import type { Emitter } from './emitter.js';
import type { Namespace } from './key-scope.js';
import type { MemoryStore } from './memory-store.js';
import type { ResolvedOptions } from './options.js';
import type { RedisTier } from './redis-tier.js';
import type { RedisFeatures } from './redis-version.js';
import type { CacheCounters } from './types.js';

/** What a read found: the value, whether it is within its TTL, and the tier that answered. */
export interface Read {
  value: unknown;
  fresh: boolean;
  expiresAt: number;
  ttlMs: number;
  tier: Tier;
}

/** One cache (the root or a tenant) as the mode files see it. */
export interface ScopeRef {
  readonly core: CacheState;
  readonly acc: Accounting;
  /** Prefix of memory keys: '' for the root cache, `t:{id}:` for a tenant. */
  readonly memPrefix: string;
  /** Prefix of Redis keys: the namespace, then the tenant part. */
  readonly keyPrefix: string;
}

/** Per-call state of one wrap: after one Redis failure the rest of the call stays in memory, so a call costs at most one deadline. */
export interface CallState {
  redisFailed: boolean;
}

/** Kinds of pub/sub message: `i` one key changed, `m` a JSON list of keys, `c` a prefix cleared, `w` a lock released. */
export type MessageType = 'i' | 'm' | 'c' | 'w';

/** Single-flight in this process and across processes (single-flight.ts). */
export interface Flights {
  /** The computation in progress per Redis key, in this process. */
  readonly flights: Map<string, Promise<unknown>>;
  track<T>(full: string, flight: Promise<T>): Promise<T>;
  token(): string;
  tryLock(full: string, token: string): Promise<boolean | undefined>;
  keepLock(full: string, token: string): () => void;
  unlock(full: string, token: string): void;
  lockOrWait(
    s: ScopeRef,
    full: string,
    call: CallState,
    maxWaitMs: number | undefined,
  ): Promise<{ token?: string; value?: Read; stale?: Read }>;
  wake(full: string): void;
  wakeAll(): void;
}

/** Publishes invalidations and lock releases to other processes (invalidation.ts). */
export interface Publisher {
  publish(type: MessageType, payload: string): void;
}

/** Deletes that could not reach Redis, sent again when it is back (outage-replay.ts). */
export interface OutageDeletes {
  remember(full: string): void;
}

/** Options, tiers, hooks and counters shared by a root cache and its tenants (`Core`). */
export interface CacheState {
  readonly o: ResolvedOptions;
  readonly ns: Namespace;
  readonly memory: MemoryStore;
  readonly redis: RedisTier | undefined;
  readonly emitter: Emitter;
  /** The prom-client metrics with a `registry`, else a sink that does nothing. */
  readonly sink: MetricsSink;
  /** The root cache's counters. */
  readonly totals: CacheCounters;
  /** The tenant caches whose stats the root lists, by tenant id. */
  readonly tenants: Map<string, ScopeRef & { readonly tenant: string | undefined }>;
  /** This cache's id in pub/sub messages and lock tokens. */
  readonly id: string;
  readonly resolved: Promise<undefined>;
  /** How values are checked and encoded: the built-in encoding or the `serializer` option. */
  readonly codec: Codec;
  /** What the connected Redis supports (detected on every connect). */
  readonly features: RedisFeatures;
  readonly flight: Flights;
  readonly invalidation: Publisher;
  readonly outage: OutageDeletes;
  evictions: number;
  closed: boolean;
  /** Date.now(), read at most about once per millisecond. */
  coarseNow(): number;
  /** `ttlMs` with the `ttlJitter` applied. */
  jitter(ttlMs: number): number;
  close(): Promise<void>;
}
