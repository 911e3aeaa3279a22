import { LRUCache } from 'lru-cache';

/**
 * One value in the in-memory tier. The value is kept as given: `inspect` has already proven that it
 * would come back identical from Redis, so both tiers hand back the same shapes.
 */
export interface MemoryEntry {
  value: unknown;
  /** Epoch ms after which the entry is a miss. */
  expiresAt: number;
  /** Epoch ms until which the entry may still be served as stale by `wrap` (grace). */
  staleUntil: number;
  /** The TTL the entry was written with, for refresh-ahead. */
  ttlMs: number;
  tags: readonly string[] | undefined;
  /** Bytes accounted against maxBytes, fixed when written. */
  size: number;
}

// Per-entry bookkeeping beyond the value: the entry object and its two timestamps, the key and
// lru-cache's slots. Calibrated with the memory-bytes benchmark (heap growth vs maxBytes).
export const ENTRY_OVERHEAD_BYTES = 200;

/** Bytes an entry is accounted for: the estimated heap size of its value, its key and the bookkeeping. */
export function entrySize(valueSize: number, key: string): number {
  return valueSize + ((16 + key.length + 7) & ~7) + ENTRY_OVERHEAD_BYTES;
}

export interface MemoryStoreOptions {
  maxEntries: number;
  maxBytes: number;
  onEvict: (key: string) => void;
}

/** The bounded LRU tier: entries, a byte budget, and a tag index kept in step with evictions. */
export class MemoryStore {
  private readonly lru: LRUCache<string, MemoryEntry>;
  private readonly tagIndex = new Map<string, Set<string>>();

  constructor(options: MemoryStoreOptions) {
    this.lru = new LRUCache<string, MemoryEntry>({
      ...(Number.isFinite(options.maxEntries) ? { max: options.maxEntries } : {}),
      maxSize: options.maxBytes,
      sizeCalculation: (entry) => entry.size,
      dispose: (entry, key, reason) => {
        if (entry.tags) this.unindex(key, entry.tags);
        if (reason === 'evict') options.onEvict(key);
      },
    });
  }

  get size(): number {
    return this.lru.size;
  }

  get bytes(): number {
    return this.lru.calculatedSize;
  }

  /** The live entry (fresh or within grace); drops it when even the grace is over. */
  entry(key: string, now: number): MemoryEntry | undefined {
    const entry = this.lru.get(key);
    if (entry === undefined) return undefined;
    if (entry.staleUntil <= now) {
      this.lru.delete(key);
      return undefined;
    }
    return entry;
  }

  set(key: string, entry: MemoryEntry, tagKeys: readonly string[] | undefined): void {
    entry.tags = tagKeys;
    this.lru.set(key, entry);
    // lru-cache refuses entries larger than the whole budget; then there is nothing to index.
    if (tagKeys && this.lru.has(key)) {
      for (const tag of tagKeys) {
        let keys = this.tagIndex.get(tag);
        if (!keys) this.tagIndex.set(tag, (keys = new Set()));
        keys.add(key);
      }
    }
  }

  delete(key: string): boolean {
    return this.lru.delete(key);
  }

  /** Deletes every key indexed under the tag; returns how many entries went. */
  deleteTag(tagKey: string): string[] {
    const keys = this.tagIndex.get(tagKey);
    if (!keys) return [];
    const list = [...keys];
    for (const key of list) this.lru.delete(key);
    this.tagIndex.delete(tagKey);
    return list;
  }

  /** Deletes every key that starts with `prefix` (all keys when it is empty). */
  clear(prefix: string): number {
    if (prefix === '') {
      const n = this.lru.size;
      this.lru.clear();
      this.tagIndex.clear();
      return n;
    }
    let n = 0;
    for (const key of [...this.lru.keys()]) {
      if (key.startsWith(prefix)) {
        this.lru.delete(key);
        n++;
      }
    }
    return n;
  }

  private unindex(key: string, tags: readonly string[]): void {
    for (const tag of tags) {
      const keys = this.tagIndex.get(tag);
      if (keys) {
        keys.delete(key);
        if (keys.size === 0) this.tagIndex.delete(tag);
      }
    }
  }
}
