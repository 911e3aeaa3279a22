// pnpm --filter @org/tiered-rate-limit bench   (the script builds dist first)
// The limiter and middleware are imported from the built dist, as users run them: tsx's transform wraps
// every closure in a naming helper, which would charge our hot path for the tool, not the library.
// Every figure of the target table (library, HTTP, memory store, exactness, Redis down), peers measured in the same run,
// interleaved, reported as paired ratios. Needs the shared Redis (REDIS_URL) and redis-server on PATH.
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer, Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import {
  interleave,
  markdownTable,
  measureThroughput,
  median,
  percentile,
  versionsOf,
  type Measurement,
} from '@org/bench';
import { freePort, startRedis } from '@org/test-services';
import { MemoryStore as ErlMemoryStore } from 'express-rate-limit';
import { Redis } from 'ioredis';
import { RateLimiterRedis, RateLimiterUnion } from 'rate-limiter-flexible';
import { createClient } from 'redis';
import { IncomingMessage, ServerResponse } from 'node:http';
import {
  createLimiter,
  defaultTiers,
  defineTiers,
  rateLimitHeaders,
  type Decision,
  type Limiter,
} from '../dist/index.js';
import { DECIDE_SCRIPT, DECIDE_SHA } from '../src/lua.js';
import { MemoryStore } from '../src/memory-store.js';

const quick = process.env.BENCH_QUICK === '1';
const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = `bench:rl:${randomBytes(3).toString('hex')}:`;
const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));
const tsx = { execArgv: ['--import', 'tsx'] };
const summary: (string | number)[][] = [];
const details: string[] = [];
const fmt = (n: number, d = 2) => n.toFixed(d);
const pass = (ok: boolean) => (ok ? 'met' : '**missed**');
const log = (s: string) => process.stderr.write(`${s}\n`);

function paired(a: Measurement[], b: Measurement[]): number {
  return median(a.map((m, i) => m.opsPerSec / b[i]!.opsPerSec));
}

const tiers = defineTiers({
  bench: { policies: { general: { limit: 1e9, window: 60 }, analysis: { limit: 1e9, window: 3600 } } },
});

// ---------------------------------------------------------------- library level, c=50
async function library() {
  log('library level, concurrency 50, 10 000 keys');
  const clients = Array.from({ length: 3 }, () => new Redis(url));
  const [floorClient, rlfClient, ourClient] = clients as [Redis, Redis, Redis];
  await floorClient.script('LOAD', DECIDE_SCRIPT);
  // A long deadline here: this section measures the Redis path, so no decision may fall back to memory.
  const ours = createLimiter({ tiers, redis: ourClient, prefix: `${prefix}o:`, timeoutMs: 1_000 });
  const oursLocal = createLimiter({ tiers, redis: ourClient, prefix: `${prefix}o:`, timeoutMs: 1_000, clock: 'local' });
  const nodeClient = createClient({ url });
  await nodeClient.connect();
  const oursNode = createLimiter({ tiers, redis: nodeClient, prefix: `${prefix}o:`, timeoutMs: 1_000 });
  const sources = new Map<string, number>();
  const counted = async (p: ReturnType<Limiter['check']>) => {
    const d = await p;
    sources.set(d.source, (sources.get(d.source) ?? 0) + 1);
  };
  const rlf = new RateLimiterRedis({ storeClient: rlfClient, points: 1e9, duration: 60, keyPrefix: `${prefix}rlf` });
  const union = new RateLimiterUnion(
    new RateLimiterRedis({ storeClient: rlfClient, points: 1e9, duration: 60, keyPrefix: `${prefix}u1` }),
    new RateLimiterRedis({ storeClient: rlfClient, points: 1e9, duration: 3600, keyPrefix: `${prefix}u2` }),
  );
  const keys = Array.from({ length: 10_000 }, (_, i) => `u${i}`);
  let n = 0;
  const key = () => keys[n++ % keys.length]!;
  const one = Object.freeze(['general']);
  const two = Object.freeze(['general', 'analysis']);
  // Many short rounds: neighbours' load on this shared 2-core machine moves within seconds, and a paired
  // ratio over many adjacent rounds cancels more of it than a few long rounds do.
  const opts = { concurrency: 50, durationMs: quick ? 300 : 350, warmupMs: 60 };
  // Client CPU per operation (process.cpuUsage over the round, warm-up included): steadier than ops/s on a shared box.
  const cpuPerOp: Record<string, number[]> = {};
  const withCpu = (candidates: Record<string, () => Promise<Measurement>>) =>
    Object.fromEntries(
      Object.entries(candidates).map(([name, run]) => [
        name,
        async () => {
          const c0 = process.cpuUsage();
          const m = await run();
          const c = process.cpuUsage(c0);
          (cpuPerOp[name] ??= []).push((c.user + c.system) / m.ops);
          return m;
        },
      ]),
    );
  const runs = await interleave(
    quick ? 2 : 20,
    withCpu({
      'raw EVALSHA of our script (1 policy)': () =>
        measureThroughput(
          () => floorClient.evalsha(DECIDE_SHA, 1, `${prefix}f:{${key()}}:general`, 0, 1, 1e9, 60_000, 1, 0),
          opts,
        ),
      'raw EVALSHA of our script (2 policies)': () =>
        measureThroughput(() => {
          const k = key();
          return floorClient.evalsha(
            DECIDE_SHA,
            2,
            `${prefix}f:{${k}}:general`,
            `${prefix}f:{${k}}:analysis`,
            0,
            1,
            1e9,
            60_000,
            1,
            0,
            1,
            1e9,
            3_600_000,
            1,
            0,
          );
        }, opts),
      'ours: check, 1 policy': () =>
        measureThroughput(() => counted(ours.check({ key: key(), tier: 'bench', policies: one })), opts),
      "ours: check, 1 policy, clock: 'local'": () =>
        measureThroughput(() => counted(oursLocal.check({ key: key(), tier: 'bench', policies: one })), opts),
      'ours: check, 1 policy, node-redis client': () =>
        measureThroughput(() => counted(oursNode.check({ key: key(), tier: 'bench', policies: one })), opts),
      'ours: check, 2 policies (atomic)': () =>
        measureThroughput(() => counted(ours.check({ key: key(), tier: 'bench', policies: two })), opts),
      'rate-limiter-flexible RateLimiterRedis.consume': () => measureThroughput(() => rlf.consume(key()), opts),
      'rate-limiter-flexible RateLimiterUnion(2 x RateLimiterRedis)': () =>
        measureThroughput(() => union.consume(key()), opts),
    }),
  );
  const floor = runs['raw EVALSHA of our script (1 policy)']!;
  const rlfName = 'rate-limiter-flexible RateLimiterRedis.consume';
  const rows = Object.entries(runs).map(([name, r]) => [
    name,
    median(r.map((m) => m.opsPerSec)),
    median(r.map((m) => m.p50Ms)),
    median(r.map((m) => m.p99Ms)),
    `${fmt(paired(r, floor))}x`,
    `${fmt(paired(r, runs[rlfName]!))}x`,
    fmt(median(cpuPerOp[name]!), 1),
  ]);
  details.push(
    `### Library level (concurrency 50, 10 000 keys, limits never hit, ${floor.length} interleaved rounds)\n\n${markdownTable(['operation', 'ops/s (median)', 'p50 ms', 'p99 ms', 'paired ratio vs raw EVALSHA (1 policy)', 'paired vs rlf consume', 'client CPU us / op (median)'], rows)}\n\nOur decisions by source: ${[...sources].map(([k, v]) => `${k} ${v}`).join(', ')} (timeoutMs 1000 so that a loaded machine never trips the fallback here).`,
  );
  const o1 = runs['ours: check, 1 policy']!;
  const o2 = runs['ours: check, 2 policies (atomic)']!;
  const p1a = paired(o1, floor);
  const rlfRuns = runs['rate-limiter-flexible RateLimiterRedis.consume']!;
  const p1b = paired(o1, rlfRuns);
  const p2a = paired(o2, o1);
  const p2b = paired(o2, runs['rate-limiter-flexible RateLimiterUnion(2 x RateLimiterRedis)']!);
  summary.push(['library', 'one policy >= 0.92x raw EVALSHA of our script', `${fmt(p1a)}x`, pass(p1a >= 0.92)]);
  summary.push([
    'library',
    'one policy >= 1.25x rlf RateLimiterRedis.consume (>= 1.1x required)',
    `${fmt(p1b)}x (rounds ${fmt(Math.min(...o1.map((m, i) => m.opsPerSec / rlfRuns[i]!.opsPerSec)))}-${fmt(Math.max(...o1.map((m, i) => m.opsPerSec / rlfRuns[i]!.opsPerSec)))}x)`,
    pass(p1b >= 1.25),
  ]);
  const p1Local = paired(runs["ours: check, 1 policy, clock: 'local'"]!, rlfRuns);
  const p1Node = paired(runs['ours: check, 1 policy, node-redis client']!, rlfRuns);
  summary.push([
    'library',
    "one policy, clock: 'local' / node-redis client, vs rlf consume",
    `${fmt(p1Local)}x / ${fmt(p1Node)}x`,
    'info',
  ]);
  summary.push(['two policies', 'two policies >= 0.85x our one-policy rate', `${fmt(p2a)}x`, pass(p2a >= 0.85)]);
  summary.push([
    'two policies',
    'two policies >= 1.6x rlf RateLimiterUnion (2 x RateLimiterRedis)',
    `${fmt(p2b)}x`,
    pass(p2b >= 1.6),
  ]);
  await Promise.all([ours.close(), oursLocal.close(), oursNode.close()]);
  await nodeClient.close();
  for (const c of clients) c.disconnect();
}

// ---------------------------------------------------------------- HTTP
function child(file: string, args: string[]): Promise<{ proc: ChildProcess; first: unknown }> {
  const proc = fork(file, args, { ...tsx, stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  return new Promise((resolve, reject) => {
    proc.once('message', (first) => resolve({ proc, first }));
    proc.once('exit', (code) => reject(new Error(`${file} exited with ${code}`)));
  });
}
function ask<T>(proc: ChildProcess, message: unknown): Promise<T> {
  return new Promise((resolve) => {
    proc.once('message', (m) => resolve(m as T));
    proc.send(message as never);
  });
}

interface LoadResult {
  rps: number;
  p50: number;
  p99: number;
  statuses: Record<string, number>;
}

async function http() {
  log('HTTP, express 5, 50 keep-alive connections');
  const modes = ['bare', 'floor', 'ours', 'ours-1', 'ours-1-node-redis', 'ours-noheaders', 'erl-redis', 'rlf-redis'];
  const servers: Record<string, { proc: ChildProcess; port: number }> = {};
  const httpSources: Record<string, Record<string, number>> = {};
  const cpuPerRequest: Record<string, number> = {};
  for (const mode of modes) {
    const { proc, first } = await child(here('./http-server.ts'), [mode, url, `${prefix}h:${mode}:`]);
    proc.on('message', (m) => {
      if (typeof m === 'object' && m && 'sources' in m) {
        const r = m as { sources: Record<string, number>; cpuUsPerRequest: number };
        httpSources[mode] = r.sources;
        cpuPerRequest[mode] = r.cpuUsPerRequest;
      }
    });
    servers[mode] = { proc, port: (first as { port: number }).port };
  }
  const { proc: load } = await child(here('./load.ts'), []);
  // Warm every server once, then start their CPU accounting.
  for (const mode of modes)
    await ask<LoadResult>(load, {
      url: `http://127.0.0.1:${servers[mode]!.port}/api/workflows`,
      connections: 50,
      durationMs: 300,
      warmupMs: 100,
      headers: { 'x-api-key': 'acct-1' },
    });
  for (const mode of modes) servers[mode]!.proc.send('mark');
  const label: Record<string, string> = {
    bare: 'express 5, no limiter',
    floor: 'hand-written middleware: one EVALSHA (same 2-policy script), 3 headers',
    ours: 'ours: tier lookup, 2 policies, X-RateLimit-* + draft-11 headers',
    'ours-noheaders': 'ours, headers off',
    'erl-redis': 'express-rate-limit + rate-limit-redis (draft-8 + legacy headers)',
    'ours-1': 'ours: 1 policy, X-RateLimit-* + draft-11 headers',
    'ours-1-node-redis': 'ours: 1 policy, both header families, node-redis client',
    'rlf-redis': 'rate-limiter-flexible RateLimiterRedis middleware (3 X-RateLimit headers)',
  };
  const runs = await interleave(
    quick ? 2 : 20,
    Object.fromEntries(
      modes.map((mode) => [
        mode,
        () =>
          ask<LoadResult>(load, {
            url: `http://127.0.0.1:${servers[mode]!.port}/api/workflows`,
            connections: 50,
            durationMs: quick ? 500 : 600,
            warmupMs: 150,
            headers: { 'x-api-key': 'acct-1' },
          }),
      ]),
    ),
  );
  const rps = (m: string) => runs[m]!.map((r) => r.rps);
  const pr = (a: string, b: string) => median(rps(a).map((x, i) => x / rps(b)[i]!));
  const rows = modes.map((m) => [
    label[m]!,
    median(rps(m)),
    median(runs[m]!.map((r) => r.p50)),
    median(runs[m]!.map((r) => r.p99)),
    `${fmt(pr(m, 'floor'))}x`,
    `${fmt(pr(m, 'bare'))}x`,
  ]);
  const non200 = modes.flatMap((m) =>
    runs[m]!.flatMap((r) =>
      Object.entries(r.statuses)
        .filter(([s]) => s !== '200')
        .map(([s, c]) => `${m}: ${c} x ${s}`),
    ),
  );
  details.push(
    `### HTTP (express 5, 50 keep-alive connections from a separate Node process, one hot key, ${runs.ours!.length} interleaved rounds)\n\n${markdownTable(['server', 'req/s (median)', 'p50 ms', 'p99 ms', 'paired vs floor', 'paired vs bare'], rows)}${non200.length ? `\n\nNon-200 answers: ${non200.join(', ')}` : ''}`,
  );
  const p3a = pr('ours', 'floor');
  const p3b = pr('ours', 'erl-redis');
  const p4 = 1 - pr('ours', 'ours-noheaders');
  summary.push(['HTTP', 'HTTP >= 0.95x hand-written one-EVALSHA middleware', `${fmt(p3a)}x`, pass(p3a >= 0.95)]);
  const rlfRounds = (m: string) => rps(m).map((x, i) => x / rps('rlf-redis')[i]!);
  const p3c = pr('ours-1', 'rlf-redis');
  const p3d = pr('ours', 'rlf-redis');
  summary.push([
    'HTTP',
    'HTTP, 1 policy >= 1.05x rate-limiter-flexible Redis middleware',
    `${fmt(p3c)}x (rounds ${fmt(Math.min(...rlfRounds('ours-1')))}-${fmt(Math.max(...rlfRounds('ours-1')))}x)`,
    pass(p3c >= 1.05),
  ]);
  summary.push([
    'HTTP',
    'HTTP, 2 policies (atomic) vs rate-limiter-flexible Redis middleware (1 limit)',
    `${fmt(p3d)}x`,
    'info',
  ]);
  const p3e = pr('ours-1-node-redis', 'rlf-redis');
  summary.push([
    'HTTP',
    'HTTP, 1 policy, node-redis client, vs rate-limiter-flexible Redis middleware',
    `${fmt(p3e)}x (rounds ${fmt(Math.min(...rlfRounds('ours-1-node-redis')))}-${fmt(Math.max(...rlfRounds('ours-1-node-redis')))}x)`,
    'info',
  ]);
  summary.push(['HTTP', 'HTTP >= 1.15x express-rate-limit + rate-limit-redis', `${fmt(p3b)}x`, pass(p3b >= 1.15)]);
  summary.push(['headers', 'both header families cost <= 3% req/s', `${fmt(p4 * 100, 1)}%`, pass(p4 <= 0.03)]);
  for (const mode of modes) servers[mode]!.proc.send('sources');
  await new Promise((r) => setTimeout(r, 500));
  details.push(
    `Our HTTP decisions by source: ${['ours', 'ours-1', 'ours-1-node-redis', 'ours-noheaders']
      .map(
        (m) =>
          `${m}: ${Object.entries(httpSources[m] ?? {})
            .map(([k, v]) => `${k} ${v}`)
            .join(', ')}`,
      )
      .join('; ')} (timeoutMs 1000 in these servers).`,
  );
  // Server CPU per request (process.cpuUsage over the whole section / requests served): far less sensitive
  // to neighbours' load than req/s, so it is the steadier view of what the limiter itself costs.
  details.push(
    `Server CPU per request (whole section):\n\n${markdownTable(
      ['server', 'CPU us / request', 'vs hand-written floor'],
      modes.map((m) => [label[m]!, cpuPerRequest[m]!, `${fmt(cpuPerRequest[m]! / cpuPerRequest.floor!)}x`]),
    )}`,
  );
  // Direct: the header work itself (build both families from a decision, set them on a real ServerResponse),
  // timed in-process, as a share of what our server spends per request.
  const headerUs = headerMicro();
  const share = headerUs / cpuPerRequest.ours!;
  summary.push([
    'headers',
    '(direct) header work per response / our server CPU per request',
    `${fmt(headerUs)} us / ${fmt(cpuPerRequest.ours!, 0)} us = ${fmt(share * 100, 1)}%`,
    pass(share <= 0.03),
  ]);
  summary.push([
    'HTTP',
    '(steadier view) server CPU per request, ours vs floor / vs erl + rate-limit-redis',
    `${fmt(cpuPerRequest.ours! / cpuPerRequest.floor!)}x / ${fmt(cpuPerRequest.ours! / cpuPerRequest['erl-redis']!)}x`,
    'info',
  ]);
  load.send('exit');
  for (const s of Object.values(servers)) s.proc.send('exit');
}

function headerMicro(): number {
  const decision = {
    allowed: true,
    outcome: 'allowed',
    source: 'redis',
    tier: defaultTiers().resolve('free'),
    key: 'k',
    policies: [
      {
        policy: 'general',
        algorithm: 'fixed-window',
        limit: 20,
        windowSec: 60,
        remaining: 17,
        resetMs: 41_200,
        retryAfterMs: 0,
        limited: false,
      },
      {
        policy: 'analysis',
        algorithm: 'fixed-window',
        limit: 10,
        windowSec: 3600,
        remaining: 3,
        resetMs: 1_259_100,
        retryAfterMs: 0,
        limited: false,
      },
    ],
    violated: [],
    nowMs: Date.now(),
    retryAfterSec: 0,
  } as const satisfies Decision;
  const req = new IncomingMessage(new Socket());
  const per = (withHeaders: boolean) => {
    const started = performance.now();
    for (let i = 0; i < 50_000; i++) {
      const res = new ServerResponse(req);
      if (withHeaders) for (const [name, value] of rateLimitHeaders(decision)) res.setHeader(name, value);
    }
    return ((performance.now() - started) * 1000) / 50_000;
  };
  const samples: number[] = [];
  for (let r = 0; r < 7; r++) samples.push(per(true) - per(false));
  return median(samples);
}

// ---------------------------------------------------------------- memory store
async function memory() {
  log('memory store');
  const ours = new MemoryStore({ maxKeys: 100_000 });
  const erl = new ErlMemoryStore();
  erl.init({ windowMs: 60_000 } as never);
  const limiter = createLimiter({ tiers });
  const args = [1, 1e9, 60_000, 1, 0];
  let n = 0;
  const keys = Array.from({ length: 10_000 }, (_, i) => `k${i}`);
  // Each store called the way its own middleware calls it: ours synchronously, erl's async increment awaited.
  const timedLoop = async (fn: () => unknown, isAsync: boolean): Promise<Measurement> => {
    const budget = quick ? 200 : 250;
    const started = performance.now();
    let ops = 0;
    while (performance.now() - started < budget) {
      if (isAsync) for (let i = 0; i < 10_000; i++) await fn();
      else for (let i = 0; i < 10_000; i++) fn();
      ops += 10_000;
    }
    const wallMs = performance.now() - started;
    return { ops, opsPerSec: (ops / wallMs) * 1000, p50Ms: Number.NaN, p99Ms: Number.NaN, wallMs };
  };
  const gen = Object.freeze(['general']);
  const runs = await interleave(quick ? 2 : 12, {
    'ours: MemoryStore.decide': () => timedLoop(() => ours.decide([keys[n++ % 10_000]!], args, Date.now()), false),
    'express-rate-limit MemoryStore.increment': () => timedLoop(() => erl.increment(keys[n++ % 10_000]!), true),
    'ours: limiter.check (memory mode, full decision object)': () =>
      timedLoop(() => limiter.check({ key: keys[n++ % 10_000]!, tier: 'bench', policies: gen }), true),
  });
  erl.shutdown();
  await limiter.close();
  const base = runs['express-rate-limit MemoryStore.increment']!;
  const results: Record<string, Record<string, number>> = {};
  for (const which of ['ours', 'erl', 'baseline']) {
    const proc = fork(here('./memory-child.ts'), [which], {
      execArgv: ['--import', 'tsx', '--expose-gc', '--max-old-space-size=2048'],
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    });
    results[which] = await new Promise((resolve, reject) => {
      proc.once('message', (m) => resolve(m as Record<string, number>));
      proc.once('exit', (code) => code !== 0 && reject(new Error(`memory child ${which} exited ${code}`)));
    });
    proc.kill();
  }
  const rows = Object.entries(runs).map(([name, r]) => [
    name,
    median(r.map((m) => m.opsPerSec)),
    `${fmt(paired(r, base))}x`,
  ]);
  details.push(
    `### In-memory store (10 000 keys, ${base.length} interleaved rounds)\n\n${markdownTable(['operation', 'ops/s (median)', 'paired vs erl MemoryStore'], rows)}\n\n` +
      markdownTable(
        ['1 000 000 distinct keys', 'ours', 'express-rate-limit MemoryStore'],
        [
          ['heap bytes per live key (key strings included)', results.ours!.heapPerKey!, results.erl!.heapPerKey!],
          ['1M keys into a store capped at 100 000: largest size seen', results.ours!.capMax!, 'no cap'],
          [
            'limiter (memory mode, 2 s window): heap MB base / peak above base / after idle',
            `${fmt(results.baseline!.baseMB!, 1)} / +${fmt(results.baseline!.peakMB!, 1)} / ${fmt(results.baseline!.afterMB!, 1)}`,
            '-',
          ],
          [
            'time from last request until heap <= base + 10%',
            `${fmt(results.baseline!.backToBaselineMs! / 1000, 1)} s`,
            '-',
          ],
        ],
      ),
  );
  const p5a = paired(runs['ours: MemoryStore.decide']!, base);
  summary.push(['memory store', 'memory store >= 1.0x erl MemoryStore ops/s', `${fmt(p5a)}x`, pass(p5a >= 1)]);
  summary.push([
    'memory store',
    '<= 150 B heap per live key at 1M keys',
    `${Math.round(results.ours!.heapPerKey!)} B (erl ${Math.round(results.erl!.heapPerKey!)} B)`,
    pass(results.ours!.heapPerKey! <= 150),
  ]);
  summary.push([
    'memory store',
    'hard cap holds (100 000)',
    String(results.ours!.capMax),
    pass(results.ours!.capMax! <= 100_000),
  ]);
  summary.push([
    'memory store',
    'heap back to baseline (+-10%) after traffic stops',
    Number.isNaN(results.baseline!.backToBaselineMs!)
      ? 'not within 20 s'
      : `${fmt(results.baseline!.backToBaselineMs! / 1000, 1)} s`,
    pass(!Number.isNaN(results.baseline!.backToBaselineMs!)),
  ]);
}

// ---------------------------------------------------------------- Redis commands per rejection
async function hammer() {
  log('hammering over-limit client');
  const server = await startRedis();
  const client = new Redis(server.url);
  const admin = new Redis(server.url);
  const processed = async () => Number(/total_commands_processed:(\d+)/.exec(await admin.info('stats'))![1]);
  const small = defineTiers({ t: { policies: { p: { limit: 10, window: 60 } } } });
  const ours = createLimiter({ tiers: small, redis: client });
  const rlf = new RateLimiterRedis({ storeClient: client, points: 10, duration: 60, keyPrefix: 'rlf' });
  const rlfBlock = new RateLimiterRedis({
    storeClient: client,
    points: 10,
    duration: 60,
    keyPrefix: 'rlfb',
    inMemoryBlockOnConsumed: 10,
  });
  const measure = async (name: string, attempt: () => Promise<boolean>) => {
    for (let i = 0; i < 10; i++) await attempt();
    const before = await processed();
    let rejected = 0;
    for (let round = 0; round < 100; round++) {
      const r = await Promise.all(Array.from({ length: 50 }, attempt));
      rejected += r.filter((ok) => !ok).length;
    }
    const commands = (await processed()) - before - 1; // minus the INFO that reads the counter
    return [name, rejected, commands, fmt(commands / rejected, 3)] as const;
  };
  const rows = [
    await measure('ours (local block list, default)', async () => (await ours.check({ key: 'abuser' })).allowed),
    await measure('rate-limiter-flexible RateLimiterRedis', () =>
      rlf.consume('abuser').then(
        () => true,
        () => false,
      ),
    ),
    await measure('rate-limiter-flexible + inMemoryBlockOnConsumed', () =>
      rlfBlock.consume('abuser').then(
        () => true,
        () => false,
      ),
    ),
  ];
  details.push(
    `### A client hammering past its limit (5 000 attempts, 50 concurrent, limit 10; private redis-server, INFO total_commands_processed)\n\n${markdownTable(
      ['limiter', 'rejected', 'Redis commands', 'commands per rejection'],
      rows.map((r) => [...r]),
    )}`,
  );
  const per = Number(rows[0]![3]);
  summary.push([
    'over-limit client',
    '<= 0.05 Redis commands per rejected request',
    String(rows[0]![3]),
    pass(per <= 0.05),
  ]);
  await ours.close();
  client.disconnect();
  admin.disconnect();
  await server.stop();
}

// ---------------------------------------------------------------- two processes
async function contenders(redisUrl: string, share: number, timeoutMs: number) {
  const procs = await Promise.all(
    [0, 1].map(() =>
      child(here('../test/workers/contender.ts'), [redisUrl, `${prefix}c:`, String(share), String(timeoutMs)]),
    ),
  );
  let id = 0;
  const run = async (key: string, config: string) => {
    const replies = await Promise.all(
      procs.map(({ proc }) => {
        const my = id++;
        return new Promise<{ allowed: number; sources: string[] }>((resolve) => {
          const on = (m: { id: number; allowed: number; sources: string[] }) => {
            if (m.id === my) {
              proc.off('message', on);
              resolve(m);
            }
          };
          proc.on('message', on);
          proc.send({ id: my, key, config, attempts: 300 });
        });
      }),
    );
    return {
      total: replies.reduce((s, r) => s + r.allowed, 0),
      split: replies.map((r) => r.allowed),
      sources: [...new Set(replies.flatMap((r) => r.sources))],
    };
  };
  return { run, stop: () => procs.forEach(({ proc }) => proc.send('exit')) };
}

async function accuracy() {
  log('2 processes x 300 concurrent attempts, limit 100');
  const c = await contenders(url, 1, 2_000);
  const rows: (string | number)[][] = [];
  let allExact = true;
  for (const config of ['fixed', 'sliding', 'gcra', 'two-policy']) {
    const totals: number[] = [];
    for (let trial = 0; trial < 10; trial++) totals.push((await c.run(`${config}-${trial}`, config)).total);
    const exact = totals.filter((t) => t === 100).length;
    allExact &&= exact === 10;
    rows.push([
      config === 'two-policy' ? 'two policies (100 000/h + 100/h, atomic)' : config,
      totals.join(', '),
      `${exact}/10`,
    ]);
  }
  c.stop();
  details.push(
    `### 2 processes x 300 concurrent attempts on one key, limit 100 (shared Redis)\n\n${markdownTable(['algorithm', 'admitted per trial', 'exactly 100'], rows)}`,
  );
  summary.push([
    'exactness',
    'exactly 100 of 600, 10/10 trials, every algorithm + two-policy',
    rows.map((r) => `${r[0]!.toString().split(' ')[0]} ${r[2]}`).join('; '),
    pass(allExact),
  ]);
}

async function fallbackAcrossInstances() {
  log('2 instances during an outage, fallback mode');
  const port = await freePort();
  const c = await contenders(`redis://127.0.0.1:${port}`, 0.5, 30);
  const totals: number[] = [];
  const splits: string[] = [];
  for (let trial = 0; trial < 5; trial++) {
    const r = await c.run(`fallback-${trial}`, 'fixed');
    totals.push(r.total);
    splits.push(`${r.split.join('+')} (${r.sources.join('/')})`);
  }
  c.stop();
  details.push(
    `### 2 instances, Redis unreachable, fallback mode with fallbackShare 0.5, 300 concurrent attempts each, limit 100\n\n${markdownTable(
      ['trial', 'admitted (per instance, source)'],
      splits.map((s, i) => [String(i + 1), s]),
    )}\n\nFor comparison (research, same machine): rate-limiter-flexible with an insurance RateLimiterMemory admits 200 with 2 processes (N x limit with N).`,
  );
  summary.push([
    'outage share',
    '2 instances in an outage, fallback: admitted <= limit + 2 (102)',
    `max ${Math.max(...totals)}`,
    pass(Math.max(...totals) <= 102),
  ]);
}

// ---------------------------------------------------------------- Redis down, default options
async function outage() {
  log('Redis down with default options');
  const rows: (string | number)[][] = [];
  let worstFirst = 0;
  let worstP99 = 0;
  let worstDetected = 0;
  const scenario = async (
    name: string,
    setup: () => Promise<{ client: Redis; fault?: () => Promise<void>; cleanup: () => Promise<void> }>,
  ) => {
    const { client, fault, cleanup } = await setup();
    client.on('error', () => {});
    const limiter: Limiter = createLimiter({ tiers: defaultTiers(), redis: client, logger: { warn: () => {} } });
    if (fault) {
      await limiter.check({ key: 'warm' });
      await fault();
    }
    const lat: number[] = [];
    for (let i = 0; i < 2_000; i++) {
      const t = performance.now();
      await limiter.check({ key: `u${i % 100}`, policies: i % 2 ? ['general'] : ['general', 'analysis'] });
      lat.push(performance.now() - t);
    }
    const first = lat[0]!;
    const p99 = percentile(lat, 99);
    const detected = percentile(lat.slice(1), 99);
    worstFirst = Math.max(worstFirst, first);
    worstP99 = Math.max(worstP99, p99);
    worstDetected = Math.max(worstDetected, detected);
    rows.push([name, fmt(first), fmt(p99), fmt(detected, 3), fmt(Math.max(...lat))]);
    await limiter.close();
    client.disconnect();
    await cleanup();
  };
  await scenario('closed port (nothing listening), from boot', async () => {
    const port = await freePort();
    return { client: new Redis({ port, host: '127.0.0.1' }), cleanup: async () => {} };
  });
  await scenario('black-holed host (TCP accepted, never answered), from boot', async () => {
    const sockets: Socket[] = [];
    const hole = createServer((s) => void sockets.push(s));
    await new Promise<void>((r) => hole.listen(0, '127.0.0.1', r));
    const port = (hole.address() as { port: number }).port;
    return {
      client: new Redis({ port, host: '127.0.0.1' }),
      cleanup: () => new Promise<void>((r) => (sockets.forEach((s) => s.destroy()), hole.close(() => r()))),
    };
  });
  await scenario('redis-server SIGKILLed while in use', async () => {
    const server = await startRedis();
    return { client: new Redis(server.url), fault: () => server.kill(), cleanup: () => server.stop() };
  });
  await scenario('redis-server paused (CLIENT PAUSE 5 s) while in use', async () => {
    const server = await startRedis();
    return { client: new Redis(server.url), fault: () => server.pause(5_000), cleanup: () => server.stop() };
  });
  details.push(
    `### Redis unavailable, default options (caller's ioredis with its defaults), 2 000 sequential decisions (half general = fallback, half general+analysis = 503)\n\n${markdownTable(['scenario', 'first decision ms', 'p99 ms (all)', 'p99 ms once detected', 'max ms'], rows)}\n\nFor comparison (research, same machine): rate-limiter-flexible and express-rate-limit + rate-limit-redis with ioredis defaults wait about 73 s per request.`,
  );
  summary.push([
    'Redis down',
    'every decision <= 50 ms p99, the first one too',
    `first <= ${fmt(worstFirst)} ms, p99 <= ${fmt(worstP99)} ms`,
    pass(worstFirst <= 50 && worstP99 <= 50),
  ]);
  summary.push(['Redis down', '<= 1 ms once detected (p99)', `${fmt(worstDetected, 3)} ms`, pass(worstDetected <= 1)]);
}

const started = performance.now();
const sections = (process.env.BENCH_ONLY ?? 'library,http,memory,hammer,accuracy,fallback,outage').split(',');
const table: Record<string, () => Promise<void>> = {
  library,
  http,
  memory,
  hammer,
  accuracy,
  fallback: fallbackAcrossInstances,
  outage,
};
for (const s of sections) await table[s]!();

const versions = await versionsOf(
  ['ioredis', 'express', 'rate-limiter-flexible', 'express-rate-limit', 'rate-limit-redis', 'prom-client'],
  import.meta.url,
);
const cleanup = new Redis(url);
let cursor = '0';
do {
  const [next, found] = await cleanup.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
  cursor = next;
  if (found.length) await cleanup.unlink(...found);
} while (cursor !== '0');
cleanup.disconnect();

console.log(
  `## Benchmark (${new Date().toISOString().slice(0, 16)} UTC, ${Math.round((performance.now() - started) / 1000)} s)\n`,
);
console.log(
  `Command: \`pnpm --filter @org/tiered-rate-limit bench\`. Node ${process.version}, ${Object.entries(versions)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ')}.\n`,
);
console.log(markdownTable(['#', 'target', 'measured', 'status'], summary));
console.log(`\n${details.join('\n\n')}`);
process.exit(0);
