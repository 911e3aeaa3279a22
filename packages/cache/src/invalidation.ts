/**
 * Invalidation over Redis pub/sub. Messages on the namespace channel read `<origin>|<type>|<payload>`: `i` (one key
 * changed), `m` (a JSON list of keys), `c` (a prefix was cleared) drop the local copies of a near cache in other
 * processes; `w` wakes the processes waiting for a key's lock (single-flight.ts), in every mode.
 */
import type { CacheState, MessageType, Publisher } from './state.js';

export class Invalidation implements Publisher {
  constructor(private readonly core: CacheState) {}

  publish(type: MessageType, payload: string): void {
    this.core.redis?.publish(`${this.core.id}|${type}|${payload}`);
  }

  onMessage(message: string): void {
    const a = message.indexOf('|');
    const b = a < 0 ? -1 : message.indexOf('|', a + 1);
    if (b < 0) return;
    const core = this.core;
    const origin = message.slice(0, a);
    const type = message.slice(a + 1, b);
    const payload = message.slice(b + 1);
    if (type === 'w') {
      core.flight.wake(payload);
      return;
    }
    if (origin === core.id || core.o.mode !== 'near') return;
    if (type === 'i') this.invalidate(core.ns.mk(payload));
    else if (type === 'm') {
      try {
        for (const key of JSON.parse(payload) as string[]) this.invalidate(core.ns.mk(key));
      } catch {
        // a malformed message from a foreign publisher: ignore it
      }
    } else if (type === 'c') core.memory.clear(core.ns.mk(payload));
  }

  /** The subscriber reconnected: invalidations sent while it was away are lost, so a near cache forgets its copies. */
  onResubscribed(): void {
    if (this.core.o.mode === 'near') this.core.memory.clear('');
  }

  private invalidate(key: string): void {
    const core = this.core;
    if (core.memory.delete(key) && core.emitter.has('invalidate')) core.emitter.emit('invalidate', { key });
  }
}
