import type { CacheErrorLike } from './types.js';

/** Events of a cache, with what each listener receives. */
export interface CacheEvents {
  hit: { key: string; tier: 'memory' | 'redis' };
  miss: { key: string };
  set: { key: string; tier: 'memory' | 'redis' };
  delete: { key: string };
  /** `wrap` served a value past its TTL (factory failed or was slower than `softTimeoutMs`). */
  stale: { key: string; reason: 'error' | 'soft-timeout' };
  /** A Redis operation failed or missed its deadline; the call was served from memory. */
  error: { error: CacheErrorLike; operation: string };
  /** Redis became usable (first connect, reconnect, breaker closed). */
  'redis:up': Record<string, never>;
  /** Redis became unusable; memory serves until it returns. */
  'redis:down': { reason: string };
  breaker: { state: 'closed' | 'open' | 'half-open' };
  /** An entry left memory to make room. */
  evict: { key: string };
  /** Another process changed a key (near mode): the local copy was dropped. */
  invalidate: { key: string };
}

export type CacheEventName = keyof CacheEvents;
type Listener<E extends CacheEventName> = (payload: CacheEvents[E]) => void;

/**
 * A tiny emitter that never throws for `error` without listeners (unlike EventEmitter) and lets
 * the hot path ask cheaply whether anyone listens.
 */
export class Emitter {
  private readonly listeners = new Map<CacheEventName, Set<Listener<never>>>();

  on<E extends CacheEventName>(event: E, listener: Listener<E>): () => void {
    let set = this.listeners.get(event);
    if (!set) this.listeners.set(event, (set = new Set()));
    set.add(listener as Listener<never>);
    return () => {
      set.delete(listener as Listener<never>);
      if (set.size === 0) this.listeners.delete(event);
    };
  }

  has(event: CacheEventName): boolean {
    return this.listeners.has(event);
  }

  emit<E extends CacheEventName>(event: E, payload: CacheEvents[E]): void {
    const set = this.listeners.get(event);
    if (!set) return;
    for (const listener of set) {
      try {
        (listener as Listener<E>)(payload);
      } catch (error) {
        // A listener's bug must not break the cache call that emitted the event.
        console.error(`@org/cache: a "${event}" listener threw`, error);
      }
    }
  }

  clear(): void {
    this.listeners.clear();
  }
}
