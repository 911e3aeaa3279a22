/**
 * What happens when Redis dies during cache.get (or has, set, wrap, delete): the call never rejects. A command that
 * fails or misses `operationTimeoutMs` is counted (`errors`/`timeouts`, an `error` event); reads are answered from
 * memory, writes go to memory, and the rest of the call stays there (breaker: redis-tier.ts; return: outage-replay.ts).
 */
import type { MemoryEntry } from './memory-store.js';
import { readMemory } from './memory-mode.js';
import type { CallState, Read, ScopeRef } from './state.js';

/**
 * A read whose Redis GET failed. `fallback` mode answers from memory (it had not looked there yet); `near` mode
 * read memory first and answers with what it found there (`stale`, when the caller may serve a stale value).
 */
export function readAfterRedisFailure(
  s: ScopeRef,
  full: string,
  allowStale: boolean,
  count: boolean,
  stale: Read | undefined,
  call: CallState | undefined,
): Read | undefined {
  if (call) call.redisFailed = true;
  if (s.core.o.mode === 'fallback') return readMemory(s, full, allowStale, count);
  return allowStale ? stale : undefined;
}

/** A write while Redis is down or whose Redis write failed: the value lives in memory, with its full TTL and grace. */
export function writeWithoutRedis(
  s: ScopeRef,
  mem: string,
  entry: MemoryEntry,
  tagKeys: string[] | undefined,
  call: CallState | undefined,
): void {
  if (call) call.redisFailed = true;
  s.core.memory.set(mem, entry, tagKeys);
}

/** A delete that did not reach Redis: replayed when Redis is back (outage-replay.ts). */
export function deleteWithoutRedis(s: ScopeRef, full: string): void {
  s.core.outage.remember(full);
}
