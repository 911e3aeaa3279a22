import type { CacheEventName, CacheEvents } from './types.js';

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
