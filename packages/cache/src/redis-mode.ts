/**
 * Redis + memory modes. `fallback`: Redis is primary and every read and write goes to it; memory serves only while
 * Redis is unavailable (redis-failure.ts). `near`: memory holds a copy of what was read or written for up to
 * `nearCacheTtl` in front of Redis, dropped in other processes over pub/sub (invalidation.ts). A cache without
 * Redis, or a call after Redis failed, reads memory only (memory-mode.ts).
 */
import type { Cluster, Redis } from 'ioredis';
import type { Tier } from './accounting.js';
import type { WriteSpec } from './call-options.js';
import type { Checked } from './custom-serializer.js';
import { escapeGlob } from './key-scope.js';
import { entrySize, type MemoryEntry } from './memory-store.js';
import { readMemory } from './memory-mode.js';
import { parseRecord, toRecord } from './record.js';
import { deleteWithoutRedis, readAfterRedisFailure, writeWithoutRedis } from './redis-failure.js';
import type { Client } from './redis-tier.js';
import type { CallState, Read, ScopeRef } from './state.js';

/** `get` in fallback mode while Redis is usable: one promise for the command, one continuation, no Read object. */
export function getFromRedis<T>(s: ScopeRef, full: string): Promise<T | undefined> {
  const sink = s.acc.sink;
  const started = sink.now();
  return s.core.redis!.get(
    full,
    (raw) => {
      const value = fromRedis<T>(s, full, raw);
      sink.observe('get', 'redis', started);
      return value;
    },
    () => {
      const r = readMemory(s, full, false, true);
      sink.observe('get', 'memory', started);
      return r?.fresh ? (r.value as T) : undefined;
    },
  );
}

function fromRedis<T>(s: ScopeRef, full: string, raw: string | null): T | undefined {
  const record = raw === null ? undefined : parseRecord(raw);
  if (record === undefined || record.expiresAt <= Date.now()) {
    s.acc.miss(full, 'redis');
    return undefined;
  }
  let value: unknown;
  try {
    value = s.core.codec.decode(record.tagged, record.body);
  } catch {
    s.acc.miss(full, 'redis');
    return undefined;
  }
  s.acc.hit(full, 'redis');
  return value as T;
}

/**
 * Reads a key from the tiers the mode uses. `allowStale` also returns entries past their TTL
 * but within grace (for wrap). Redis failures fall back to memory, never to the caller.
 */
export async function read(
  s: ScopeRef,
  full: string,
  allowStale: boolean,
  count: boolean,
  call?: CallState,
  ordered = false,
): Promise<Read | undefined> {
  const core = s.core;
  const mode = core.o.mode;
  const redis = core.redis;
  if (mode === 'memory' || !redis!.usable || call?.redisFailed === true) return readMemory(s, full, allowStale, count);
  let stale: Read | undefined;
  if (mode === 'near') {
    const m = readMemory(s, full, true, count);
    if (m?.fresh) return m;
    stale = m;
  }
  let raw: string | null;
  try {
    // `ordered`: sent at once behind the command before it on the connection; otherwise batched with the tick's GETs.
    raw = await (ordered ? redis!.exec('GET', (c) => c.get(full)) : redis!.fetch(full));
  } catch {
    return readAfterRedisFailure(s, full, allowStale, count, stale, call);
  }
  const record = raw === null ? undefined : parseRecord(raw);
  if (record === undefined) {
    if (count) s.acc.miss(full, 'redis');
    return allowStale ? stale : undefined;
  }
  const fresh = record.expiresAt > Date.now();
  // A record past its TTL is only decoded when the caller may serve it stale (wrap's grace).
  if (!fresh && !allowStale) {
    if (count) s.acc.miss(full, 'redis');
    return undefined;
  }
  let value: unknown;
  try {
    value = core.codec.decode(record.tagged, record.body);
  } catch {
    if (count) s.acc.miss(full, 'redis');
    return allowStale ? stale : undefined;
  }
  if (count) {
    if (fresh) s.acc.hit(full, 'redis');
    else s.acc.miss(full, 'redis');
  }
  if (fresh && mode === 'near') {
    const nearUntil = Math.min(record.expiresAt, Date.now() + core.o.nearCacheTtlMs);
    const mem = core.ns.mk(full);
    // The JSON length stands in for the heap size: an inspection per near-cache fill is not worth it.
    core.memory.set(
      mem,
      {
        value,
        expiresAt: nearUntil,
        staleUntil: nearUntil,
        ttlMs: record.ttlMs,
        tags: undefined,
        size: entrySize(record.body.length, mem),
      },
      undefined,
    );
  }
  return { value, fresh, expiresAt: record.expiresAt, ttlMs: record.ttlMs, tier: 'redis' };
}

/** Writes a checked value to Redis (with its tags), or to memory while Redis is unavailable; resolves with the tier written. */
export async function write(
  s: ScopeRef,
  full: string,
  checked: Checked,
  spec: WriteSpec,
  call?: CallState,
): Promise<Tier> {
  const core = s.core;
  const now = Date.now();
  const ttlMs = core.jitter(spec.ttlMs);
  const expiresAt = now + ttlMs;
  const staleUntil = expiresAt + spec.graceMs;
  const tagKeys = spec.tags?.map((t) => core.ns.tagKey(s.keyPrefix, t));
  s.acc.set();
  const redis = core.redis;
  const mem = core.ns.mk(full);
  const size = entrySize(checked.size, mem);
  const entry = (until: number, stale: number): MemoryEntry => ({
    value: checked.value,
    expiresAt: until,
    staleUntil: stale,
    ttlMs,
    tags: undefined,
    size,
  });
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
        core.invalidation.publish('i', full);
      } else {
        // A copy written during an outage must not shadow the new value if Redis fails again.
        core.memory.delete(mem);
      }
    } catch {
      writeWithoutRedis(s, mem, entry(expiresAt, staleUntil), tagKeys, call);
    }
  } else {
    writeWithoutRedis(s, mem, entry(expiresAt, staleUntil), tagKeys, undefined);
  }
  if (core.emitter.has('set')) core.emitter.emit('set', { key: mem, tier });
  return tier;
}

/** The Redis part of `delete`: true when Redis deleted the key. */
export async function deleteInRedis(s: ScopeRef, full: string): Promise<boolean> {
  const core = s.core;
  const redis = core.redis!;
  if (!redis.usable) {
    deleteWithoutRedis(s, full);
    return false;
  }
  try {
    const deleted = (await redis.exec('DEL', (c) => c.del(full))) > 0;
    if (core.o.mode === 'near') core.invalidation.publish('i', full);
    return deleted;
  } catch {
    deleteWithoutRedis(s, full);
    return false;
  }
}

/** The Redis part of `deleteByTag`: deletes the tag's members and the tag set; adds the members' memory keys to `keys`. */
export async function deleteTagInRedis(s: ScopeRef, tagKey: string, keys: Set<string>): Promise<void> {
  const core = s.core;
  const redis = core.redis;
  if (redis === undefined || !redis.usable) return;
  try {
    const members = await redis.exec('SMEMBERS', (c) => c.smembers(tagKey));
    await redis.deleteAll([...members, tagKey]);
    for (const k of members) {
      const m = core.ns.mk(k);
      keys.add(m);
      core.memory.delete(m);
    }
    if (core.o.mode === 'near' && members.length > 0) core.invalidation.publish('m', JSON.stringify(members));
  } catch {
    for (const k of keys) deleteWithoutRedis(s, core.ns.rootPrefix + k);
  }
}

/** The Redis part of `clear`: SCAN and UNLINK the scope's keys and tag sets on every primary, under a longer deadline. */
export async function clearInRedis(s: ScopeRef): Promise<void> {
  const core = s.core;
  const redis = core.redis;
  if (redis === undefined || !redis.usable) return;
  const patterns = [`${escapeGlob(s.keyPrefix)}*`, `${escapeGlob(core.ns.tagKey(s.keyPrefix, ''))}*`];
  const nodes: Client[] = redis.cluster ? (redis.client as Cluster).nodes('master') : [redis.client];
  const budget = Math.max(2_000, core.o.operationTimeoutMs * 40);
  try {
    for (const node of nodes) {
      for (const pattern of patterns) {
        let cursor = '0';
        do {
          const [next, keys] = await redis.slow('SCAN', budget, () =>
            (node as Redis).scan(cursor, 'MATCH', pattern, 'COUNT', 1000),
          );
          cursor = next;
          if (keys.length > 0) {
            if (redis.cluster)
              await redis.slow('UNLINK', budget, () => Promise.all(keys.map((k) => (node as Redis).unlink(k))));
            else await redis.slow('UNLINK', budget, () => (node as Redis).unlink(...keys));
          }
        } while (cursor !== '0');
      }
    }
  } catch {
    // Redis went away mid-clear; what is left keeps its TTL.
  }
  if (core.o.mode === 'near') core.invalidation.publish('c', s.keyPrefix);
}
