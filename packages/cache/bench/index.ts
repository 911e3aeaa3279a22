// The @org/cache benchmark: its targets, with the anchors in the same run, interleaved, as ratios.
// Run: pnpm --filter @org/cache bench   (QUICK=1 for a shorter smoke run)
import { fork } from 'node:child_process';
import { createServer, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { LRUCache } from 'lru-cache';
import { createClient } from 'redis';
import { interleave, markdownTable, median, percentile, ratio, versionsOf, type Measurement } from '@org/bench';
import { freePort, startRedis } from '@org/test-services';
// The published build is measured (the source through tsx carries transpiler helpers on hot paths).
import type * as OrgCache from '../src/index.js';
import type { Cache } from '../src/index.js';
const { createCache } = (await import(new URL('../dist/index.js', import.meta.url).href)) as typeof OrgCache;
import * as A from './anchors.js';

const QUICK = process.env.QUICK === '1';
const REDIS =
  process.env.BENCH_REDIS_URL ?? `${(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379').replace(/\/\d*$/, '')}/11`;
const RUN = `bench${Date.now().toString(36)}`;
const here = (f: string) => fileURLToPath(new URL(f, import.meta.url));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const fmt = (n: number, d = 2) => (Number.isFinite(n) ? n.toFixed(d) : String(n));
const summary: { id: string; target: string; result: string; met: boolean | 'n/a' }[] = [];
const log = (s = '') => console.log(s);

// Bookkeeping of the unhandled-errors target: "Unhandled error event" lines and unhandled rejections while @org/cache runs outages.
let unhandledErrorLines = 0;
let unhandledRejections = 0;
const originalError = console.error;
console.error = (...args: unknown[]) => {
  if (args.map(String).join(' ').includes('Unhandled error event')) unhandledErrorLines++;
  originalError(...args);
};
process.on('unhandledRejection', () => unhandledRejections++);

const value200 = (i: number) => ({
  id: i,
  name: `item-${i}`,
  tags: ['alpha', 'beta', 'gamma'],
  score: i * 1.5,
  active: true,
  nested: { a: 1, b: 'some text that pads it', c: [1, 2, 3] },
});

// ---- memory hits ----------------------------------------------------------------------
async function asyncRate(fn: (k: string) => Promise<unknown>, keys: string[], ms: number): Promise<number> {
  let ops = 0;
  let sink = 0;
  const t0 = performance.now();
  const end = t0 + ms;
  while (performance.now() < end) {
    for (let j = 0; j < 1000; j++) if ((await fn(keys[(ops + j) & 1023]!)) !== undefined) sink++;
    ops += 1000;
  }
  if (sink !== ops) throw new Error(`expected only hits, got ${ops - sink} misses`);
  return (ops / (performance.now() - t0)) * 1000;
}

function syncRate(fn: (k: string) => unknown, keys: string[], ms: number): number {
  let ops = 0;
  let sink = 0;
  const t0 = performance.now();
  const end = t0 + ms;
  while (performance.now() < end) {
    for (let j = 0; j < 1000; j++) if (fn(keys[(ops + j) & 1023]!) !== undefined) sink++;
    ops += 1000;
  }
  if (sink !== ops) throw new Error('expected only hits');
  return (ops / (performance.now() - t0)) * 1000;
}

async function memoryHits(): Promise<void> {
  const keys = Array.from({ length: 1024 }, (_, i) => `key:${i}`);
  const lru = new LRUCache<string, object>({ max: 10_000 });
  const org = createCache({ maxEntries: 10_000 });
  const bento = A.bentoL1(RUN);
  const bentoNoSer = A.bentoL1(`${RUN}n`, false);
  const cacheable = A.cacheableMemory();
  const cm = A.cacheManagerMemory();
  const dd = A.dedupeMemory('fetch');
  const asyncLru = async (k: string) => lru.get(k);
  for (const [i, k] of keys.entries()) {
    const v = value200(i);
    lru.set(k, v);
    await org.set(k, v);
    for (const l of [bento, bentoNoSer, cacheable, cm, dd]) await l.set(k, v);
  }
  const slice = QUICK ? 100 : 250;
  const rounds = QUICK ? 3 : 5;
  const runs = await interleave(rounds, {
    'lru-cache get via async fn (async floor)': () => asyncRate(asyncLru, keys, slice),
    '@org/cache get (memory)': () => asyncRate((k) => org.get(k), keys, slice),
    'bentocache L1 (default serialize)': () => asyncRate((k) => bento.get(k), keys, slice),
    'bentocache L1 serialize:false': () => asyncRate((k) => bentoNoSer.get(k), keys, slice),
    'cacheable (default memory)': () => asyncRate((k) => cacheable.get(k), keys, slice),
    'cache-manager (default Keyv Map, unbounded)': () => asyncRate((k) => cm.get(k), keys, slice),
    'async-cache-dedupe memory': () => asyncRate((k) => dd.get(k), keys, slice),
  });
  const floor = median(runs['lru-cache get via async fn (async floor)']!);
  log('### Memory hit, async get (1024 hot keys, ~200 B objects; median of interleaved slices)');
  log(
    markdownTable(
      ['lib', 'ops/s', 'vs async lru floor'],
      Object.entries(runs).map(([name, r]) => [name, median(r), ratio(median(r), floor)]),
    ),
  );
  const memoryGetRatio = median(runs['@org/cache get (memory)']!) / floor;
  summary.push({
    id: 'memory-get',
    target: '>= 0.5x async lru floor',
    result: `${fmt(memoryGetRatio)}x`,
    met: memoryGetRatio >= 0.5,
  });

  const syncRuns = await interleave(rounds, {
    'lru-cache get (sync floor)': async () => syncRate((k) => lru.get(k), keys, slice),
    '@org/cache peek': async () => syncRate((k) => org.peek(k), keys, slice),
  });
  const sfloor = median(syncRuns['lru-cache get (sync floor)']!);
  log('\n### Synchronous peek vs raw lru-cache.get');
  log(
    markdownTable(
      ['lib', 'ops/s', 'vs sync lru'],
      Object.entries(syncRuns).map(([name, r]) => [name, median(r), ratio(median(r), sfloor)]),
    ),
  );
  const peekRatio = median(syncRuns['@org/cache peek']!) / sfloor;
  summary.push({
    id: 'peek',
    target: '>= 0.5x sync lru-cache.get',
    result: `${fmt(peekRatio)}x`,
    met: peekRatio >= 0.5,
  });
  await Promise.all([org.close(), bento.close(), bentoNoSer.close(), cacheable.close(), cm.close(), dd.close()]);
}

// ---- Redis get at concurrency 50 -------------------------------------------------------------
async function redisGets(): Promise<void> {
  const keys = Array.from({ length: 1000 }, (_, i) => `get:${i}`);
  const raw = new Redis(REDIS);
  raw.on('error', () => {});
  const nodeRaw = createClient({ url: REDIS });
  nodeRaw.on('error', () => {});
  await nodeRaw.connect();
  const nodeForOrg = createClient({ url: REDIS });
  nodeForOrg.on('error', () => {});
  await nodeForOrg.connect();
  const org = createCache({ redis: REDIS, prefix: `${RUN}org` });
  const orgNode = createCache({ redis: nodeForOrg, prefix: `${RUN}org` });
  while (org.stats().redis !== 'up' || orgNode.stats().redis !== 'up') await sleep(10);
  const libs = [
    A.keyvRedis(REDIS, `${RUN}kv`),
    A.bentoL2(REDIS, `${RUN}bl2`),
    A.cacheManagerRedis(REDIS, `${RUN}cm`),
    A.cacheableL2(REDIS, `${RUN}cb`),
    A.dedupeRedis(REDIS, `${RUN}dd`),
  ];
  for (const [i, k] of keys.entries()) {
    const v = value200(i);
    await raw.set(`${RUN}raw:${k}`, JSON.stringify(v));
    await org.set(k, v, 3600);
    for (const l of libs) await l.set(k, v);
  }
  // Client-side count of socket writes per GET of the cache's own ioredis connection.
  const stream = (
    org as unknown as { core: { redis: { client: { stream: { write: (...a: unknown[]) => boolean } } } } }
  ).core.redis.client.stream;
  const write = stream.write.bind(stream);
  let writes = 0;
  stream.write = (...a: unknown[]) => {
    writes++;
    return write(...a);
  };
  let n = 0;
  const next = () => keys[n++ % 1000]!;
  // Only answers that came from Redis count: a miss means a call was served from memory (its
  // deadline passed or the breaker was open), which must not inflate the throughput.
  const misses: Record<string, number> = {};
  const durationMs = QUICK ? 400 : 800;
  const hitThroughput = async (name: string, get: (k: string) => Promise<unknown>): Promise<Measurement> => {
    const run = async (ms: number, record: boolean) => {
      const latencies: number[] = [];
      let hits = 0;
      let missed = 0;
      const end = performance.now() + ms;
      const t0 = performance.now();
      await Promise.all(
        Array.from({ length: 50 }, async () => {
          while (performance.now() < end) {
            const started = performance.now();
            const v = await get(next());
            if (v === undefined) {
              missed++;
              // Let timers and I/O run, as a server between requests would.
              await new Promise((r) => setImmediate(r));
            } else {
              hits++;
              if (record) latencies.push(performance.now() - started);
            }
          }
        }),
      );
      const wallMs = performance.now() - t0;
      if (record) misses[name] = (misses[name] ?? 0) + missed;
      return {
        ops: hits,
        opsPerSec: (hits / wallMs) * 1000,
        p50Ms: percentile(latencies, 50),
        p99Ms: percentile(latencies, 99),
        wallMs,
      };
    };
    await run(200, false);
    return run(durationMs, true);
  };
  const candidates: Record<string, () => Promise<Measurement>> = {
    'raw ioredis GET + JSON.parse (floor)': () =>
      hitThroughput('raw ioredis GET + JSON.parse (floor)', async (k) => {
        const s = await raw.get(`${RUN}raw:${k}`);
        return s === null ? undefined : JSON.parse(s);
      }),
    'raw node-redis GET + JSON.parse': () =>
      hitThroughput('raw node-redis GET + JSON.parse', async (k) => {
        const s = await nodeRaw.get(`${RUN}raw:${k}`);
        return s === null ? undefined : JSON.parse(s);
      }),
    '@org/cache get (Redis, fallback mode)': () =>
      hitThroughput('@org/cache get (Redis, fallback mode)', (k) => org.get(k)),
    '@org/cache get (node-redis client)': () =>
      hitThroughput('@org/cache get (node-redis client)', (k) => orgNode.get(k)),
  };
  for (const l of libs) candidates[l.name] = () => hitThroughput(l.name, (k) => l.get(k));
  const getsBefore = org.stats().hits.redis + org.stats().misses.redis;
  const writesBefore = writes;
  const runs = await interleave(QUICK ? 1 : 5, candidates);
  const orgGets = org.stats().hits.redis + org.stats().misses.redis - getsBefore;
  const floor = runs['raw ioredis GET + JSON.parse (floor)']!;
  const fOps = median(floor.map((m) => m.opsPerSec));
  const fP99 = median(floor.map((m) => m.p99Ms));
  log('\n### Redis get, concurrency 50, 1000 keys (median of interleaved runs)');
  log(
    markdownTable(
      ['lib', 'ops/s', 'vs raw ioredis', 'p50 ms', 'p99 ms', 'p99 vs raw', 'misses (all runs)'],
      Object.entries(runs).map(([name, r]) => {
        const ops = median(r.map((m) => m.opsPerSec));
        const p99 = median(r.map((m) => m.p99Ms));
        return [
          name,
          ops,
          ratio(ops, fOps),
          fmt(median(r.map((m) => m.p50Ms))),
          fmt(p99),
          ratio(p99, fP99),
          misses[name] ?? 0,
        ];
      }),
    ),
  );
  const orgStats = org.stats();
  log(
    `@org/cache during the Redis get section: ${orgStats.timeouts} Redis timeouts (50 ms deadline); ops/s and latencies count Redis answers only`,
  );
  log(
    `@org/cache (ioredis URL) socket writes per GET: ${fmt((writes - writesBefore) / orgGets, 3)} (${writes - writesBefore} writes for ${orgGets} GETs: the GETs of one tick go out as one MGET)`,
  );
  const fastestPeer = Object.entries(runs)
    .filter(([name]) => !name.startsWith('@org') && !name.startsWith('raw'))
    .map(([name, r]) => [name, median(r.map((m) => m.opsPerSec))] as const)
    .sort((a, b) => b[1] - a[1])[0]!;
  const perRound = (name: string) => runs[name]!.map((m, i) => m.opsPerSec / runs[fastestPeer[0]]![i]!.opsPerSec);
  for (const name of ['@org/cache get (Redis, fallback mode)', '@org/cache get (node-redis client)']) {
    const r = perRound(name);
    log(
      `${name} vs fastest peer (${fastestPeer[0]}): paired median ${fmt(median(r))}x, rounds ${r.map((x) => fmt(x)).join(', ')}`,
    );
  }
  const org3 = runs['@org/cache get (Redis, fallback mode)']!;
  const redisOpsRatio = median(org3.map((m) => m.opsPerSec)) / fOps;
  const redisP99Ratio = median(org3.map((m) => m.p99Ms)) / fP99;
  const orgMisses = misses['@org/cache get (Redis, fallback mode)']!;
  summary.push({
    id: 'redis-get',
    target: 'ops/s >= 1.0x raw ioredis, p99 <= 1.2x',
    result: `${fmt(redisOpsRatio)}x ops/s, p99 ${fmt(redisP99Ratio)}x, ${orgMisses} misses`,
    met: redisOpsRatio >= 1 && redisP99Ratio <= 1.2 && orgMisses === 0,
  });
  raw.disconnect();
  await Promise.all([org.close(), orgNode.close(), ...libs.map((l) => l.close())]);
  await Promise.all([nodeRaw.close(), nodeForOrg.close()]);
}

// ---- stampede in one process -------------------------------------------------------------------
async function stampedeOneProcess(): Promise<void> {
  const org = createCache({ redis: REDIS, prefix: `${RUN}s1` });
  while (org.stats().redis !== 'up') await sleep(10);
  const libs: A.Lib[] = [
    {
      name: '@org/cache (Redis, fallback mode)',
      get: (k) => org.get(k),
      set: (k, v) => org.set(k, v),
      wrap: (k, f) => org.wrap(k, f),
      close: () => org.close(),
    },
    A.bentoL1L2(REDIS, `${RUN}s1b`),
    A.cacheableL1L2(REDIS, `${RUN}s1c`),
    A.cacheManagerL1L2(REDIS, `${RUN}s1m`),
    A.dedupeRedis(REDIS, `${RUN}s1d`),
  ];
  for (const l of libs) await l.wrap(`${RUN}warm`, async () => 1);
  const rows: (string | number)[][] = [];
  let orgOk = true;
  let orgWall = 0;
  for (const l of libs) {
    const calls: number[] = [];
    const walls: number[] = [];
    for (let trial = 0; trial < 3; trial++) {
      let c = 0;
      const t0 = performance.now();
      const out = await Promise.all(
        Array.from({ length: 1000 }, () =>
          l.wrap(`${RUN}stampede:${trial}`, async () => {
            c++;
            await sleep(50);
            return { v: trial };
          }),
        ),
      );
      walls.push(performance.now() - t0);
      calls.push(c);
      if (out.some((o) => (o as { v: number }).v !== trial)) throw new Error(`${l.name} returned a wrong value`);
    }
    rows.push([l.name, calls.join(','), walls.map((w) => fmt(w, 0)).join(','), fmt(median(walls), 0)]);
    if (l.name.startsWith('@org')) {
      orgOk = calls.every((c) => c === 1);
      orgWall = median(walls);
    }
  }
  log('\n### 1000 concurrent wrap misses on one key, 50 ms factory, one process (3 trials)');
  log(markdownTable(['lib', 'factory calls', 'wall ms per trial', 'median wall ms'], rows));
  summary.push({
    id: 'stampede',
    target: '1 factory call, wall <= 80 ms',
    result: `${orgOk ? '1 call' : 'MORE THAN 1 CALL'}, ${fmt(orgWall, 0)} ms`,
    met: orgOk && orgWall <= 80,
  });
  await Promise.all(libs.map((l) => l.close()));
}

// ---- stampede across 2 processes ----------------------------------------------------------------
async function stampedeTwoProcesses(): Promise<void> {
  const rows: (string | number)[][] = [];
  for (const lib of ['org', 'bentocache', 'cacheable', 'cache-manager', 'async-cache-dedupe']) {
    const prefix = `${RUN}x${lib.replace(/\W/g, '')}`;
    const children = [0, 1].map(() =>
      fork(here('./stampede-child.ts'), [lib, REDIS, prefix], {
        execArgv: ['--import', 'tsx'],
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      }),
    );
    const next = (c: (typeof children)[number], type: string) =>
      new Promise<Record<string, number>>((r) => {
        const on = (m: { type: string }) => {
          if (m.type === type) {
            c.off('message', on);
            r(m as unknown as Record<string, number>);
          }
        };
        c.on('message', on);
      });
    await Promise.all(children.map((c) => next(c, 'ready')));
    const calls: number[] = [];
    const walls: number[] = [];
    const oks: number[] = [];
    const trials = QUICK ? 3 : lib === 'org' ? 20 : 5;
    for (let trial = 0; trial < trials; trial++) {
      const at = Date.now() + 100;
      const done = children.map((c) => next(c, 'done'));
      for (const c of children) c.send({ cmd: 'go', key: `t${trial}`, at });
      const res = await Promise.all(done);
      calls.push(res[0]!.calls! + res[1]!.calls!);
      walls.push(Math.max(res[0]!.wallMs!, res[1]!.wallMs!));
      oks.push(res[0]!.ok! + res[1]!.ok!);
    }
    for (const c of children) c.send({ cmd: 'exit' });
    await Promise.all(children.map((c) => new Promise((r) => c.once('exit', r))));
    const name = lib === 'org' ? '@org/cache (Redis lock + pub/sub wake)' : lib;
    rows.push([name, calls.join(','), walls.map((w) => fmt(w, 0)).join(','), fmt(median(walls), 0), oks.join(',')]);
    if (lib === 'org') {
      const ok = calls.every((c) => c === 1) && oks.every((o) => o === 1000);
      summary.push({
        id: 'stampede-2p',
        target: '1 factory call in total, 1000/1000 ok, median wall <= factory + 10 ms (60 ms) over 20 trials',
        result: `calls all 1: ${calls.every((c) => c === 1)}, median wall ${fmt(median(walls), 0)} ms`,
        met: ok && median(walls) <= 60,
      });
    }
  }
  log('\n### 2 processes x 500 concurrent wrap misses, shared Redis, 50 ms factory (@org/cache 20 trials, peers 5)');
  log(
    markdownTable(
      ['lib', 'factory calls per trial', 'wall ms (max of 2) per trial', 'median wall ms', 'ok/1000 per trial'],
      rows,
    ),
  );
}

// ---- Redis down and back ------------------------------------------------------------------
interface DownResult {
  ok: number;
  hung: number;
  firstMs: number;
  p50: number;
  p99: number;
}

async function twoHundredWraps(
  wrap: (k: string, f: () => Promise<unknown>) => Promise<unknown>,
  capMs: number,
): Promise<DownResult> {
  const ms: number[] = [];
  let ok = 0;
  let hung = 0;
  for (let i = 0; i < 200; i++) {
    const t0 = performance.now();
    const r = await Promise.race([
      wrap(`down:${i}`, async () => i).then(
        () => 'ok',
        () => 'throw',
      ),
      sleep(capMs).then(() => 'hang'),
    ]);
    ms.push(performance.now() - t0);
    if (r === 'ok') ok++;
    else if (r === 'hang') {
      hung++;
      break; // a configuration that hangs once is reported as hanging
    }
  }
  return { ok, hung, firstMs: ms[0]!, p50: percentile(ms, 50), p99: percentile(ms, 99) };
}

async function blackHole(): Promise<{ url: string; close: () => Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createServer((s) => {
    sockets.add(s);
    s.on('error', () => {});
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `redis://127.0.0.1:${(server.address() as { port: number }).port}`,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}

async function redisDown(): Promise<void> {
  const rows: (string | number)[][] = [];
  const closedPort = `redis://127.0.0.1:${await freePort()}`;
  const hole = await blackHole();
  const cap = 500;
  const orgResults: DownResult[] = [];
  const before = { lines: unhandledErrorLines, rejections: unhandledRejections };
  for (const [label, url] of [
    ['closed port', closedPort],
    ['black-holed host', hole.url],
  ] as const) {
    const org = createCache({ redis: url, prefix: `${RUN}down` });
    const r = await twoHundredWraps((k, f) => org.wrap(k, f), cap);
    orgResults.push(r);
    rows.push([`@org/cache defaults (${label})`, `${r.ok}/${r.hung}`, fmt(r.firstMs), fmt(r.p50, 3), fmt(r.p99, 3)]);
    await org.close();
  }
  const firstWrite = await reconnect();
  const orgLines = unhandledErrorLines - before.lines;
  const orgRejections = unhandledRejections - before.rejections;

  // Anchors with their defaults (the same client settings the study measured), closed port and black hole.
  for (const [label, url] of [
    ['closed port', closedPort],
    ['black-holed host', hole.url],
  ] as const) {
    const raw = new Redis(url);
    raw.on('error', () => {});
    const rr = await twoHundredWraps(async (k) => raw.get(k), cap);
    rows.push([
      `raw ioredis GET, defaults (${label})`,
      `${rr.ok}/${rr.hung}`,
      fmt(rr.firstMs),
      fmt(rr.p50, 3),
      fmt(rr.p99, 3),
    ]);
    raw.disconnect();
    if (label === 'closed port') {
      const anchors = [
        A.bentoL1L2(url, `${RUN}dn`),
        A.cacheableL1L2(url, `${RUN}dn`),
        A.cacheManagerL1L2(url, `${RUN}dn`),
        A.dedupeRedis(url, `${RUN}dn`),
      ];
      for (const l of anchors) {
        const r = await twoHundredWraps((k, f) => l.wrap(k, f), cap);
        rows.push([`${l.name} defaults (${label})`, `${r.ok}/${r.hung}`, fmt(r.firstMs), fmt(r.p50, 3), fmt(r.p99, 3)]);
        void l.close().catch(() => {});
      }
    }
  }
  await hole.close();
  log(
    `\n### Redis down, default options, 200 sequential wrap calls on new keys (cap ${cap} ms per call; a hang stops the row)`,
  );
  log(markdownTable(['lib/config', 'ok/hung', 'first call ms', 'p50 ms', 'p99 ms'], rows));
  const downOk = orgResults.every((r) => r.ok === 200 && r.firstMs <= 50 && r.p99 <= 2);
  summary.push({
    id: 'redis-down',
    target: '200/200 resolve, first <= 50 ms, p99 <= 2 ms (closed port and black hole)',
    result: orgResults
      .map((r, i) => `${['closed', 'black hole'][i]}: ${r.ok}/200, first ${fmt(r.firstMs)} ms, p99 ${fmt(r.p99, 3)} ms`)
      .join('; '),
    met: downOk,
  });

  log(
    '\n### Redis absent for 4 s, then started; ms from starting redis-server to the first write that reached Redis (median of trials)',
  );
  log(
    markdownTable(
      ['lib/config', 'ms to first Redis write', 'per trial', 'cache calls during the outage: p99 / max ms'],
      [
        [
          'raw ioredis, defaults (reference)',
          fmt(median(firstWrite.raw), 0),
          firstWrite.raw.map((x) => fmt(x, 0)).join(','),
          'queued (offline queue)',
        ],
        [
          '@org/cache defaults',
          fmt(median(firstWrite.org), 0),
          firstWrite.org.map((x) => fmt(x, 0)).join(','),
          `${fmt(firstWrite.p99, 3)} / ${fmt(firstWrite.max, 2)}`,
        ],
      ],
    ),
  );
  const firstWriteRatio = median(firstWrite.org) / median(firstWrite.raw);
  summary.push({
    id: 'first-write',
    target: 'first Redis write <= 1.2x raw ioredis defaults, while redis-down holds',
    result: `${fmt(firstWriteRatio)}x (${fmt(median(firstWrite.org), 0)} vs ${fmt(median(firstWrite.raw), 0)} ms); outage calls p99 ${fmt(firstWrite.p99, 3)} ms`,
    met: firstWriteRatio <= 1.2 && firstWrite.p99 <= 2,
  });
  summary.push({
    id: 'unhandled',
    target: '0 unhandled-error lines, 0 unhandled rejections (@org/cache outage runs)',
    result: `${orgLines} lines, ${orgRejections} rejections`,
    met: orgLines === 0 && orgRejections === 0,
  });
}

async function reconnect(): Promise<{ raw: number[]; org: number[]; p99: number; max: number }> {
  const raw: number[] = [];
  const org: number[] = [];
  const calls: number[] = [];
  for (let trial = 0; trial < (QUICK ? 1 : 3); trial++) {
    const port = await freePort();
    const url = `redis://127.0.0.1:${port}`;
    const client = new Redis(url);
    client.on('error', () => {});
    const cache: Cache = createCache({ redis: url, prefix: `${RUN}firstWrite` });
    let startedAt = 0;
    let rawFirst = 0;
    let orgFirst = 0;
    cache.on('set', (e) => {
      if (e.tier === 'redis' && orgFirst === 0 && startedAt > 0) orgFirst = performance.now();
    });
    let running = true;
    const loop = (async () => {
      for (let i = 0; running; i++) {
        client.set(`w${i}`, '1').then(
          () => {
            if (rawFirst === 0 && startedAt > 0) rawFirst = performance.now();
          },
          () => {},
        );
        const t0 = performance.now();
        await cache.set(`w${i}`, i);
        await cache.get(`w${i}`);
        if (startedAt === 0) calls.push((performance.now() - t0) / 2);
        await sleep(50);
      }
    })();
    await sleep(4_000);
    startedAt = performance.now();
    const server = await startRedis({ port });
    const until = performance.now() + 5_000;
    while ((rawFirst === 0 || orgFirst === 0) && performance.now() < until) await sleep(5);
    running = false;
    await loop;
    raw.push(rawFirst ? rawFirst - startedAt : Infinity);
    org.push(orgFirst ? orgFirst - startedAt : Infinity);
    client.disconnect();
    await cache.close();
    await server.stop();
  }
  return { raw, org, p99: percentile(calls, 99), max: Math.max(...calls) };
}

// ---- memory bounds (each in its own process) ------------------------------------------------------
function child(lib: string, what: 'entries' | 'bytes', n: number): Promise<Record<string, number>> {
  return new Promise((resolve, reject) => {
    const c = fork(here('./memory-child.ts'), [lib, what, String(n)], {
      execArgv: ['--expose-gc', '--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    c.once('message', (m) => resolve(m as Record<string, number>));
    c.once('exit', (code) => code !== 0 && reject(new Error(`${lib} exited with ${code}`)));
  });
}

async function memoryBounds(): Promise<void> {
  const n = QUICK ? 50_000 : 200_000;
  const libs = ['lru-cache', '@org/cache', 'bentocache', 'async-cache-dedupe', 'cacheable'];
  // Two rounds in rotated order (the machine drifts); each figure is the mean of the two.
  const rounds = await interleave(
    QUICK ? 1 : 2,
    Object.fromEntries(libs.map((lib) => [lib, () => child(lib, 'entries', n)])),
  );
  const results: Record<string, Record<string, number>> = {};
  for (const lib of libs) {
    const runs = rounds[lib]!;
    const mean = (f: string) => runs.reduce((a, r) => a + r[f]!, 0) / runs.length;
    results[lib] = {
      retained: Math.max(...runs.map((r) => r.retained!)),
      heapGrowth: mean('heapGrowth'),
      rssGrowth: mean('rssGrowth'),
      insertOpsPerSec: mean('insertOpsPerSec'),
    };
  }
  const floor = results['lru-cache']!;
  log(
    `\n### ${n / 1000}k x ~1 KB inserts with a 10k-entry limit (each lib in its own process, after gc; mean of 2 interleaved rounds)`,
  );
  log(
    markdownTable(
      ['lib', 'retained', 'heap growth MB', 'heap vs lru', 'RSS growth MB', 'insert ops/s', 'insert vs lru'],
      libs.map((lib) => {
        const r = results[lib]!;
        return [
          lib,
          r.retained!,
          fmt(r.heapGrowth! / 2 ** 20, 1),
          ratio(r.heapGrowth!, floor.heapGrowth!),
          fmt(r.rssGrowth! / 2 ** 20, 1),
          r.insertOpsPerSec!,
          ratio(r.insertOpsPerSec!, floor.insertOpsPerSec!),
        ];
      }),
    ),
  );
  const o = results['@org/cache']!;
  const heapRatio = o.heapGrowth! / floor.heapGrowth!;
  const insRatio = o.insertOpsPerSec! / floor.insertOpsPerSec!;
  summary.push({
    id: 'memory-entries',
    target: 'retained <= 10k, heap <= 1.3x lru-cache, insert >= 0.5x',
    result: `retained ${o.retained}, heap ${fmt(heapRatio)}x, insert ${fmt(insRatio)}x`,
    met: o.retained! <= 10_000 && heapRatio <= 1.3 && insRatio >= 0.5,
  });

  const bytes: Record<string, Record<string, number>> = {};
  for (const lib of ['@org/cache', 'bentocache']) bytes[lib] = await child(lib, 'bytes', QUICK ? 20_000 : 50_000);
  log('\n### MaxBytes 10 MiB, ~1 KB values (heap growth after gc vs the budget)');
  log(
    markdownTable(
      ['lib', 'retained', 'reported bytes', 'heap growth MB', 'heap growth / maxBytes'],
      Object.entries(bytes).map(([lib, r]) => [
        lib,
        r.retained!,
        r.reportedBytes ?? 'n/a',
        fmt(r.heapGrowth! / 2 ** 20, 2),
        ratio(r.heapGrowth!, r.maxBytes!),
      ]),
    ),
  );
  const b = bytes['@org/cache']!;
  const heapVsBudget = b.heapGrowth! / b.maxBytes!;
  summary.push({
    id: 'memory-bytes',
    target: 'maxBytes within ±10 %',
    result: `accounted ${fmt(b.reportedBytes! / b.maxBytes!, 3)}x of maxBytes; heap growth ${fmt(heapVsBudget, 3)}x of maxBytes`,
    met: b.reportedBytes! <= b.maxBytes! && Math.abs(heapVsBudget - 1) <= 0.1,
  });
}

// ---- serialization ------------------------------------------------------------------------------------
async function serialization(): Promise<void> {
  const { isDeepStrictEqual } = await import('node:util');
  const cases: Record<string, unknown> = {
    Date: new Date(5),
    BigInt: 10n ** 20n,
    Map: new Map([['a', 1]]),
    Set: new Set([1, 2]),
    Buffer: Buffer.from('hi'),
    Uint8Array: new Uint8Array([1, 2]),
    Float64Array: new Float64Array([0.5]),
    'undefined field': { a: 1, b: undefined },
    NaN: Number.NaN,
    '-0': -0,
    'string ":x"': ':x',
  };
  const mem = createCache();
  const writer = createCache({ redis: REDIS, prefix: `${RUN}ser` });
  const reader = createCache({ redis: REDIS, prefix: `${RUN}ser` });
  while (writer.stats().redis !== 'up' || reader.stats().redis !== 'up') await sleep(10);
  const rows: string[][] = [];
  let all = true;
  for (const [name, v] of Object.entries(cases)) {
    await mem.set(name, { v });
    await writer.set(name, { v });
    const m = isDeepStrictEqual(await mem.get(name), { v });
    const r = isDeepStrictEqual(await reader.get(name), { v });
    all &&= m && r;
    rows.push([name, m ? 'identical' : 'DIFFERENT', r ? 'identical' : 'DIFFERENT']);
  }
  const refused = await mem.set('fn', { f: () => 1 }).then(
    () => 'stored!',
    (e: { code?: string }) => e.code ?? 'threw',
  );
  rows.push(['function (must be refused)', refused, refused]);
  all &&= refused === 'CACHE_UNSERIALIZABLE';
  log('\n### Serialization round-trip (memory tier; Redis tier read through a second instance)');
  log(markdownTable(['value', 'memory', 'Redis (fresh instance)'], rows));
  summary.push({
    id: 'serialization',
    target: 'the list round-trips from both tiers; unserializable -> typed error',
    result: all ? 'all identical, function refused' : 'see table',
    met: all,
  });
  await Promise.all([mem.close(), writer.close(), reader.close()]);
}

async function cleanup(): Promise<void> {
  const admin = new Redis(REDIS);
  let cursor = '0';
  do {
    const [next, keys] = await admin.scan(cursor, 'MATCH', `*${RUN}*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length) await admin.unlink(...keys);
  } while (cursor !== '0');
  admin.disconnect();
}

const t0 = performance.now();
const versions = await versionsOf(
  [
    'bentocache',
    'cache-manager',
    'cacheable',
    'keyv',
    '@keyv/redis',
    'async-cache-dedupe',
    'lru-cache',
    'ioredis',
    'redis',
  ],
  import.meta.url,
);
log(
  `# @org/cache benchmark (${new Date().toISOString()}, Node ${process.version}, ${QUICK ? 'QUICK' : 'full'} run, Redis ${REDIS})`,
);
log(
  `versions: ${Object.entries(versions)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ')}\n`,
);
try {
  // ONLY=memory-get,redis-get runs some sections (memory-get also covers peek; redis-down covers first-write and
  // unhandled; memory-entries covers memory-bytes).
  const only = process.env.ONLY?.split(',');
  const sections: [string, () => Promise<void>][] = [
    ['memory-get', memoryHits],
    ['redis-get', redisGets],
    ['stampede', stampedeOneProcess],
    ['stampede-2p', stampedeTwoProcesses],
    ['redis-down', redisDown],
    ['memory-entries', memoryBounds],
    ['serialization', serialization],
  ];
  for (const [id, run] of sections) if (!only || only.includes(id)) await run();
} finally {
  await cleanup();
}
log('\n### Summary (targets)');
log(
  markdownTable(
    ['#', 'target', '@org/cache', 'met'],
    summary.map((s) => [s.id, s.target, s.result, s.met === true ? 'yes' : s.met === false ? 'NO' : 'n/a']),
  ),
);
log(`\ntotal ${fmt((performance.now() - t0) / 1000, 0)} s`);
process.exit(0);
