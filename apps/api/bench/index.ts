// pnpm --filter api bench
// The full pipeline against bare Express on the same cached JSON GET: closed loop (autocannon, 10 connections)
// and a fixed 200 req/s, interleaved rounds, reported as ratios. Needs PostgreSQL (DATABASE_URL or 127.0.0.1:5432) and Redis
// (REDIS_URL or 127.0.0.1:6379): the full stack caches and rate-limits on Redis.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { interleave, markdownTable, median, ratio, versionsOf } from '@org/bench';
import { sharedPostgres, sharedRedisUrl } from '@org/test-services';
import { migrate } from '../src/db/migrations.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const DURATION_S = Number(process.env.BENCH_DURATION ?? 5);
const CONNECTIONS = 10;
const FIXED_RATE = 200;

interface Target {
  child: ChildProcess;
  /** http://127.0.0.1:port */
  origin: string;
  url: string;
  cookie: string | undefined;
}

async function startTarget(mode: 'full' | 'bare', env: Record<string, string>): Promise<Target> {
  const appDir = fileURLToPath(new URL('..', import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/server.ts', mode], {
    cwd: appDir,
    env: { ...process.env, ...env, NODE_ENV: 'production' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const line = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const ready = out.split('\n').find((l) => l.startsWith('READY '));
      if (ready) resolve(ready);
    });
    child.once('exit', (code) => reject(new Error(`${mode} target exited with ${code}`)));
  });
  const [, port, cookie] = line.split(' ');
  return {
    child,
    origin: `http://127.0.0.1:${port}`,
    url: `http://127.0.0.1:${port}/api/workflows`,
    cookie: cookie === '-' ? undefined : cookie,
  };
}

interface Run {
  /** Server CPU time (user + system) per request, in microseconds. */
  cpuUs: number;
  rps: number;
  p50: number;
  p99: number;
  non2xx: number;
}

async function cpuOf(target: Target): Promise<number> {
  const usage = (await (await fetch(`${target.origin}/api/cpu`)).json()) as { user: number; system: number };
  return usage.user + usage.system;
}

async function load(target: Target, fixedRate: boolean, path?: string, durationS = DURATION_S): Promise<Run> {
  const cpuBefore = await cpuOf(target);
  const result = await autocannon({
    url: path ? `${target.origin}${path}` : target.url,
    connections: CONNECTIONS,
    duration: durationS,
    headers: { 'accept-encoding': 'gzip', ...(target.cookie ? { cookie: target.cookie } : {}) },
    ...(fixedRate ? { overallRate: FIXED_RATE } : {}),
  });
  const cpuUs = (await cpuOf(target)) - cpuBefore;
  return {
    cpuUs: cpuUs / Math.max(1, result.requests.total),
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    non2xx: result.non2xx + result.errors,
  };
}

const pg = await sharedPostgres('api_bench');
let full: Target | undefined;
let noAuth: Target | undefined;
let regzip: Target | undefined;
let bare: Target | undefined;
try {
  await migrate({ url: pg.url });
  // The user's data shape: 200 locations x 1,000 analyses (200,000 rows with small findings documents).
  await pg.pool.query(`
    INSERT INTO accounts (email) VALUES ('seed@example.test');
    INSERT INTO locations (id, account_id) SELECT 'loc-' || i, (SELECT id FROM accounts LIMIT 1) FROM generate_series(1, 199) i;
    INSERT INTO locations (id, account_id) VALUES ('loc-bench', (SELECT id FROM accounts LIMIT 1));
    INSERT INTO analysis_results (location_id, workflow_id, workflow_version, health_score, issues_found, tier, findings, created_at)
      SELECT CASE WHEN i % 200 = 0 THEN 'loc-bench' ELSE 'loc-' || (i % 200) END, 'wf-' || (i % 50), 1, i % 101, i % 7, 'pro',
             jsonb_build_array(jsonb_build_object('rule', 'missing-trigger', 'severity', 'warning', 'node', 'n' || (i % 13))),
             now() - (i || ' seconds')::interval
      FROM generate_series(1, 200000) i;
    ANALYZE;
  `);
  full = await startTarget('full', { BENCH_DATABASE_URL: pg.url, BENCH_REDIS_URL: sharedRedisUrl });
  // The same pipeline without the per-request session lookup in PostgreSQL, to show that lookup's share.
  noAuth = await startTarget('full', {
    BENCH_DATABASE_URL: pg.url,
    BENCH_REDIS_URL: sharedRedisUrl,
    BENCH_NO_AUTH: '1',
  });
  // The same pipeline serializing and gzipping the cached list on every response (res.json), to show that share.
  regzip = await startTarget('full', {
    BENCH_DATABASE_URL: pg.url,
    BENCH_REDIS_URL: sharedRedisUrl,
    BENCH_RECOMPRESS: '1',
  });
  bare = await startTarget('bare', {});
  // Warm-up: JIT, pool connections, sockets.
  await load(full, false);
  await load(bare, false);

  await load(noAuth, false);
  await load(regzip, false);
  const closed = await interleave(ROUNDS, {
    full: () => load(full!, false),
    noAuth: () => load(noAuth!, false),
    regzip: () => load(regzip!, false),
    bare: () => load(bare!, false),
  });
  const fixed = await interleave(ROUNDS, { full: () => load(full!, true), bare: () => load(bare!, true) });
  const m = (runs: Run[], f: (r: Run) => number) => median(runs.map(f));
  for (const runs of [...Object.values(closed), ...Object.values(fixed)]) {
    if (runs.some((r) => r.non2xx > 0)) throw new Error(`non-2xx responses during the bench: ${JSON.stringify(runs)}`);
  }

  // Before/after the performance indexes (003), on the full stack, same process, same data.
  const endpoints = {
    'workflows list (cached)': '/api/workflows',
    analysis: '/api/locations/loc-bench/workflows/wf-0/analysis',
    history: '/api/locations/loc-bench/analyses?limit=20',
  };
  const INDEX_DURATION_S = Math.max(2, Math.round(DURATION_S / 2));
  const phase = async () => {
    const out: Record<string, Run> = {};
    for (const [name, path] of Object.entries(endpoints)) out[name] = await load(full!, false, path, INDEX_DURATION_S);
    return out;
  };
  await migrate({ url: pg.url, direction: 'down', count: 1 });
  await pg.pool.query('ANALYZE');
  const before = await phase();
  await migrate({ url: pg.url });
  await pg.pool.query('ANALYZE');
  const after = await phase();
  for (const run of [...Object.values(before), ...Object.values(after)]) {
    if (run.non2xx > 0) throw new Error(`non-2xx responses during the index bench: ${JSON.stringify(run)}`);
  }

  const versions = await versionsOf(
    ['express', 'pino', 'helmet', 'compression', 'pg', 'ioredis', 'prom-client', 'autocannon'],
    import.meta.url,
  );
  console.log(
    `\nNode ${process.version}; ${Object.entries(versions)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}`,
  );
  console.log(
    `${ROUNDS} interleaved rounds of ${DURATION_S} s, ${CONNECTIONS} connections, gzip accepted; medians. Load average at the end: ${(
      await import('node:os')
    )
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}.\n`,
  );
  console.log(
    markdownTable(
      [
        'load',
        'target',
        'req/s',
        'p50 ms',
        'p99 ms',
        'server CPU µs/req',
        'req/s vs bare',
        'p50 vs bare',
        'p99 vs bare',
      ],
      [
        [
          'closed loop',
          'full stack',
          m(closed.full!, (r) => r.rps),
          m(closed.full!, (r) => r.p50),
          m(closed.full!, (r) => r.p99),
          m(closed.full!, (r) => r.cpuUs),
          ratio(
            m(closed.full!, (r) => r.rps),
            m(closed.bare!, (r) => r.rps),
          ),
          ratio(
            m(closed.full!, (r) => r.p50),
            m(closed.bare!, (r) => r.p50),
          ),
          ratio(
            m(closed.full!, (r) => r.p99),
            m(closed.bare!, (r) => r.p99),
          ),
        ],
        [
          'closed loop',
          'full stack without session lookup',
          m(closed.noAuth!, (r) => r.rps),
          m(closed.noAuth!, (r) => r.p50),
          m(closed.noAuth!, (r) => r.p99),
          m(closed.noAuth!, (r) => r.cpuUs),
          ratio(
            m(closed.noAuth!, (r) => r.rps),
            m(closed.bare!, (r) => r.rps),
          ),
          ratio(
            m(closed.noAuth!, (r) => r.p50),
            m(closed.bare!, (r) => r.p50),
          ),
          ratio(
            m(closed.noAuth!, (r) => r.p99),
            m(closed.bare!, (r) => r.p99),
          ),
        ],
        [
          'closed loop',
          'full stack, list re-serialized and re-gzipped per response',
          m(closed.regzip!, (r) => r.rps),
          m(closed.regzip!, (r) => r.p50),
          m(closed.regzip!, (r) => r.p99),
          m(closed.regzip!, (r) => r.cpuUs),
          ratio(
            m(closed.regzip!, (r) => r.rps),
            m(closed.bare!, (r) => r.rps),
          ),
          ratio(
            m(closed.regzip!, (r) => r.p50),
            m(closed.bare!, (r) => r.p50),
          ),
          ratio(
            m(closed.regzip!, (r) => r.p99),
            m(closed.bare!, (r) => r.p99),
          ),
        ],
        [
          'closed loop',
          'bare Express',
          m(closed.bare!, (r) => r.rps),
          m(closed.bare!, (r) => r.p50),
          m(closed.bare!, (r) => r.p99),
          m(closed.bare!, (r) => r.cpuUs),
          '1.00x',
          '1.00x',
          '1.00x',
        ],
        [
          `${FIXED_RATE} req/s`,
          'full stack',
          m(fixed.full!, (r) => r.rps),
          m(fixed.full!, (r) => r.p50),
          m(fixed.full!, (r) => r.p99),
          m(fixed.full!, (r) => r.cpuUs),
          ratio(
            m(fixed.full!, (r) => r.rps),
            m(fixed.bare!, (r) => r.rps),
          ),
          ratio(
            m(fixed.full!, (r) => r.p50),
            m(fixed.bare!, (r) => r.p50),
          ),
          ratio(
            m(fixed.full!, (r) => r.p99),
            m(fixed.bare!, (r) => r.p99),
          ),
        ],
        [
          `${FIXED_RATE} req/s`,
          'bare Express',
          m(fixed.bare!, (r) => r.rps),
          m(fixed.bare!, (r) => r.p50),
          m(fixed.bare!, (r) => r.p99),
          m(fixed.bare!, (r) => r.cpuUs),
          '1.00x',
          '1.00x',
          '1.00x',
        ],
      ],
    ),
  );
  const avgMs = (runs: Record<string, Run>) =>
    Object.values(runs).reduce((sum, r) => sum + 1000 / (r.rps / CONNECTIONS), 0) / Object.keys(runs).length;
  const meanMs = (r: Run) => 1000 / (r.rps / CONNECTIONS);
  console.log(
    `\nBefore/after 003_performance_indexes (full stack, 200,000 analyses, ${CONNECTIONS} connections, ${INDEX_DURATION_S} s each; mean latency = connections / req/s):\n`,
  );
  console.log(
    markdownTable(
      ['endpoint', 'before req/s', 'before mean ms', 'after req/s', 'after mean ms', 'after p99 ms', 'speed-up'],
      [
        ...Object.keys(endpoints).map((name) => [
          name,
          before[name]!.rps,
          meanMs(before[name]!),
          after[name]!.rps,
          meanMs(after[name]!),
          after[name]!.p99,
          ratio(after[name]!.rps, before[name]!.rps),
        ]),
        ['average', '', avgMs(before), '', avgMs(after), '', ratio(avgMs(before), avgMs(after))],
      ],
    ),
  );
} finally {
  full?.child.kill('SIGKILL');
  noAuth?.child.kill('SIGKILL');
  regzip?.child.kill('SIGKILL');
  bare?.child.kill('SIGKILL');
  await pg.cleanup();
}
