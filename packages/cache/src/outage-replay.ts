/**
 * Outage replay: what the cache does when Redis comes back. Entries written to memory while Redis was away may be
 * stale for other processes, so memory is cleared; deletes that could not reach Redis (remembered meanwhile, at
 * most 10,000 keys) are sent again, in chunks of 500 keys, each one operation under one deadline.
 */
import type { CacheState, OutageDeletes } from './state.js';

const MAX_OUTAGE_DELETES = 10_000;
const CHUNK = 500;

export class OutageReplay implements OutageDeletes {
  private readonly deletes = new Set<string>();

  constructor(private readonly core: CacheState) {}

  /** A delete of the Redis key `full` that did not reach Redis. */
  remember(full: string): void {
    if (this.core.o.mode === 'memory') return;
    if (this.deletes.size >= MAX_OUTAGE_DELETES) return;
    this.deletes.add(full);
  }

  /** Redis is usable again. */
  replay(): void {
    const core = this.core;
    core.memory.clear('');
    const deletes = [...this.deletes];
    this.deletes.clear();
    // Thousands of single DELs at once would time out together.
    for (let i = 0; i < deletes.length; i += CHUNK) {
      core.redis!.deleteAll(deletes.slice(i, i + CHUNK)).catch(() => {
        // the breaker will see it; the keys keep their TTL
      });
    }
  }
}
