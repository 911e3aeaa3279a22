// The memory-bounds sections in a process of its own (heap figures are per process): inserts ~1 KB values and reports growth.
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { LRUCache } from 'lru-cache';
// The published build is measured (the source through tsx carries transpiler helpers on hot paths).
import type * as OrgCache from '../src/index.js';
const { createCache } = (await import(new URL('../dist/index.js', import.meta.url).href)) as typeof OrgCache;
import { bento, cacheable, dedupeMemory } from './anchors.js';
import { bentostore } from 'bentocache';
import { memoryDriver } from 'bentocache/drivers/memory';
import { CacheableMemory, KeyvCacheableMemory } from 'cacheable';

const [lib, what, countArg] = process.argv.slice(2) as [string, 'entries' | 'bytes', string];
const N = Number(countArg);
const LIMIT = 10_000;
const MAX_BYTES = 10 * 1024 * 1024;
const gc = (globalThis as { gc?: () => void }).gc!;

// ~1 KB JSON per value; every value has its own flat string so that nothing is shared between entries.
const value = (i: number) => ({
  id: i,
  name: `item-${i}`,
  active: i % 2 === 0,
  text: randomBytes(450).toString('hex'),
});

interface Target {
  set(key: string, v: unknown): unknown;
  retained(): Promise<number>;
  bytes?: () => number;
}

function target(): Target {
  const lastKeys = async (get: (k: string) => Promise<unknown> | unknown) => {
    let hits = 0;
    for (let i = N - 1; i >= Math.max(0, N - 2 * LIMIT); i--) if ((await get(`k${i}`)) !== undefined) hits++;
    return hits;
  };
  switch (lib) {
    case 'lru-cache': {
      const lru = new LRUCache<string, object>(
        what === 'entries' ? { max: LIMIT } : { maxSize: MAX_BYTES, sizeCalculation: (v) => JSON.stringify(v).length },
      );
      return { set: (k, v) => lru.set(k, v as object), retained: async () => lru.size };
    }
    case '@org/cache': {
      const cache = createCache(what === 'entries' ? { maxEntries: LIMIT } : { maxBytes: MAX_BYTES });
      return {
        set: (k, v) => cache.set(k, v),
        retained: async () => cache.stats().memory.entries,
        bytes: () => cache.stats().memory.bytes,
      };
    }
    case 'bentocache': {
      const l = bento(
        'bentocache',
        bentostore().useL1Layer(memoryDriver(what === 'entries' ? { maxItems: LIMIT } : { maxSize: MAX_BYTES })),
        'm',
      );
      return { set: (k, v) => l.set(k, v), retained: () => lastKeys((k) => l.get(k)) };
    }
    case 'cacheable': {
      const c = cacheable('cacheable', { primary: new KeyvCacheableMemory({ lruSize: LIMIT } as never) });
      return { set: (k, v) => c.set(k, v), retained: () => lastKeys((k) => c.get(k)) };
    }
    case 'async-cache-dedupe': {
      const d = dedupeMemory('fetch');
      return {
        set: (k, v) => d.set(k, v),
        retained: () => lastKeys(async (k) => (await d.wrap(k, async () => undefined)) as unknown),
      };
    }
    default:
      throw new Error(`unknown lib ${lib}`);
  }
}
void CacheableMemory;

gc();
const heap0 = process.memoryUsage().heapUsed;
const rss0 = process.memoryUsage().rss;
const t = target();
const t0 = performance.now();
for (let i = 0; i < N; i++) {
  const r = t.set(`k${i}`, value(i));
  if (r instanceof Promise) await r;
}
const elapsed = performance.now() - t0;
gc();
await new Promise((r) => setTimeout(r, 50));
gc();
const heap1 = process.memoryUsage().heapUsed;
const rss1 = process.memoryUsage().rss;
const retained = await t.retained();
process.send!({
  lib,
  what,
  retained,
  heapGrowth: heap1 - heap0,
  rssGrowth: rss1 - rss0,
  insertOpsPerSec: (N / elapsed) * 1000,
  reportedBytes: t.bytes?.(),
  maxBytes: MAX_BYTES,
});
// Keep the cache reachable until the figures are taken.
void t;
process.exit(0);
