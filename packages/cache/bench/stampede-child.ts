// One process of the cross-process stampede: creates one cache, waits for "go", runs 500 concurrent wraps.
import { performance } from 'node:perf_hooks';
// The published build is measured (the source through tsx carries transpiler helpers on hot paths).
import type * as OrgCache from '../src/index.js';
const { createCache } = (await import(new URL('../dist/index.js', import.meta.url).href)) as typeof OrgCache;
import { bentoL1L2, cacheManagerL1L2, cacheableL1L2, dedupeRedis, type Lib } from './anchors.js';

const [lib, url, prefix] = process.argv.slice(2) as [string, string, string];

function make(): Lib {
  switch (lib) {
    case 'org': {
      const cache = createCache({ redis: url, prefix });
      return {
        name: lib,
        get: (k) => cache.get(k),
        set: (k, v) => cache.set(k, v),
        wrap: (k, f) => cache.wrap(k, f),
        close: () => cache.close(),
        ...{ ready: () => cache.stats().redis === 'up' },
      };
    }
    case 'bentocache':
      return bentoL1L2(url, prefix);
    case 'cacheable':
      return cacheableL1L2(url, prefix);
    case 'cache-manager':
      return cacheManagerL1L2(url, prefix);
    case 'async-cache-dedupe':
      return dedupeRedis(url, `f${prefix.replace(/\W/g, '')}`);
    default:
      throw new Error(`unknown lib ${lib}`);
  }
}

const cache = make() as Lib & { ready?: () => boolean };
// Warm the connection (as the anchor study did) so the trial measures the stampede, not connecting.
const started = Date.now();
while (cache.ready && !cache.ready() && Date.now() - started < 10_000) await new Promise((r) => setTimeout(r, 10));
await cache.wrap(`${prefix}warm${process.pid}`, async () => 1);
process.send!({ type: 'ready' });

process.on('message', async (m: { cmd: 'go'; key: string; at: number } | { cmd: 'exit' }) => {
  if (m.cmd === 'exit') {
    await cache.close();
    process.exit(0);
  }
  // Both processes start at the same wall-clock instant.
  await new Promise((r) => setTimeout(r, Math.max(0, m.at - Date.now())));
  let calls = 0;
  const t0 = performance.now();
  const skew = Date.now() - m.at;
  const results = await Promise.allSettled(
    Array.from({ length: 500 }, () =>
      cache.wrap(m.key, async () => {
        calls++;
        await new Promise((r) => setTimeout(r, 50));
        return { v: 1 };
      }),
    ),
  );
  process.send!({
    type: 'done',
    calls,
    ok: results.filter((r) => r.status === 'fulfilled').length,
    wallMs: performance.now() - t0,
    skew,
  });
});
