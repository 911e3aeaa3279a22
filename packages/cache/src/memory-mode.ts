/**
 * Memory-only mode (a cache without `redis`), and the memory tier the other modes read first (near) or fall back on
 * (fallback, while Redis is down): reads with TTL and grace, writes with jitter and tags, and the synchronous `peek`.
 */
import type { WriteSpec } from './call-options.js';
import type { Checked } from './custom-serializer.js';
import { entrySize } from './memory-store.js';
import type { Read, ScopeRef } from './state.js';

/** The memory key of a key of this scope. */
export const memKey = (s: ScopeRef, key: string): string => (s.memPrefix === '' ? key : s.memPrefix + key);

/** `get` of a memory-only cache: no Redis key, no promise chain. */
export function getFromMemory<T>(s: ScopeRef, key: string): Promise<T | undefined> {
  const core = s.core;
  const sink = s.acc.sink;
  const started = sink.now();
  const mem = memKey(s, key);
  const now = Date.now();
  const entry = core.memory.entry(mem, now);
  if (entry !== undefined && entry.expiresAt > now) {
    s.acc.hit(mem, 'memory', false);
    sink.observe('get', 'memory', started);
    return Promise.resolve(entry.value as T);
  }
  s.acc.miss(mem, 'memory', false);
  sink.observe('get', 'memory', started);
  return core.resolved;
}

/** The synchronous read of the memory tier: no Redis, no stats. */
export function peek<T>(s: ScopeRef, key: string): T | undefined {
  const now = s.core.coarseNow();
  const entry = s.core.memory.entry(memKey(s, key), now);
  return entry !== undefined && entry.expiresAt > now ? (entry.value as T) : undefined;
}

/** The memory tier's entry of a Redis key (fresh, or stale when `allowStale`), counted as a memory hit or miss. */
export function readMemory(s: ScopeRef, full: string, allowStale: boolean, count: boolean): Read | undefined {
  const now = Date.now();
  const entry = s.core.memory.entry(s.core.ns.mk(full), now);
  if (entry === undefined) {
    if (count) s.acc.miss(full, 'memory');
    return undefined;
  }
  const r: Read = {
    value: entry.value,
    fresh: entry.expiresAt > now,
    expiresAt: entry.expiresAt,
    ttlMs: entry.ttlMs,
    tier: 'memory',
  };
  if (count) {
    if (r.fresh) s.acc.hit(full, 'memory');
    else s.acc.miss(full, 'memory');
  }
  return r.fresh || allowStale ? r : undefined;
}

/** `set` of a memory-only cache: synchronous. */
export function writeMemory(s: ScopeRef, mem: string, checked: Checked, spec: WriteSpec): void {
  const core = s.core;
  const ttlMs = core.jitter(spec.ttlMs);
  const expiresAt = Date.now() + ttlMs;
  s.acc.set();
  const tagKeys = spec.tags?.map((t) => core.ns.tagKey(s.keyPrefix, t));
  core.memory.set(
    mem,
    {
      value: checked.value,
      expiresAt,
      staleUntil: expiresAt + spec.graceMs,
      ttlMs,
      tags: undefined,
      size: entrySize(checked.size, mem),
    },
    tagKeys,
  );
  if (core.emitter.has('set')) core.emitter.emit('set', { key: mem, tier: 'memory' });
}
