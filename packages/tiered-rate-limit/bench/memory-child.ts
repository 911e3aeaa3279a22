// Memory-store figures in a clean process (run with --expose-gc): heap per live key at 1M keys for our
// store and express-rate-limit's MemoryStore, the hard cap, and the return to baseline after expiry.
import { performance } from 'node:perf_hooks';
import { MemoryStore as ErlMemoryStore } from 'express-rate-limit';
import { createLimiter, defineTiers } from '../dist/index.js';
import { MemoryStore } from '../src/memory-store.js';

const gc = (globalThis as { gc?: () => void }).gc!;
const heap = () => {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
};
const N = 1_000_000;
const which = process.argv[2];
const out: Record<string, number | string> = {};

if (which === 'ours') {
  const store = new MemoryStore({ maxKeys: 2_000_000 });
  const args = [1, 100, 60_000, 1, 0];
  const withKeys = heap();
  const now = Date.now();
  // Key strings are created here so that their cost counts, as it does for a real server.
  for (let i = 0; i < N; i++) store.decide([`k${i}`], args, now);
  out.heapPerKey = (heap() - withKeys) / N;
  out.live = store.size;
  // Hard cap: 1M distinct keys into a store capped at 100k.
  const capped = new MemoryStore({ maxKeys: 100_000 });
  let maxSize = 0;
  for (let i = 0; i < N; i++) {
    capped.decide([`k${i}`], args, now);
    if ((i & 1023) === 0) maxSize = Math.max(maxSize, capped.size);
  }
  out.capMax = Math.max(maxSize, capped.size);
  out.evictions = capped.evictions;
} else if (which === 'erl') {
  const store = new ErlMemoryStore();
  store.init({ windowMs: 60_000 } as never);
  const withKeys = heap();
  for (let i = 0; i < N; i++) await store.increment(`k${i}`);
  out.heapPerKey = (heap() - withKeys) / N;
  store.shutdown();
} else if (which === 'baseline') {
  // The real limiter (memory mode, its single maintenance timer): 1M keys with a 2 s window, then idle.
  const tiers = defineTiers({ t: { policies: { p: { limit: 5, window: 2 } } } });
  const base = heap();
  const limiter = createLimiter({ tiers, maxMemoryKeys: 2_000_000 });
  for (let i = 0; i < N; i++) await limiter.check({ key: `k${i}` });
  out.peakMB = (heap() - base) / 1e6;
  const stopped = performance.now();
  let back = Number.NaN;
  while (performance.now() - stopped < 20_000) {
    await new Promise((r) => setTimeout(r, 500));
    if (heap() <= base * 1.1) {
      back = performance.now() - stopped;
      break;
    }
  }
  out.backToBaselineMs = back;
  out.baseMB = base / 1e6;
  out.afterMB = heap() / 1e6;
  await limiter.close();
}
process.send!(out);
