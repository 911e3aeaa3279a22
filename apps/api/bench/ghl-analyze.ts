// pnpm --filter api bench:ghl
// Target: POST /api/analyze on a cache hit within 1.5x a cached GET /api/workflows at the same fixed rate.
// One server process (bench/ghl-server.ts: the production pipeline with session auth in PostgreSQL, @org/cache in
// memory, the fake GHL as GHL); autocannon at a fixed rate, interleaved rounds, medians, ratios.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { interleave, markdownTable, median, ratio, versionsOf } from '@org/bench';
import { sharedPostgres } from '@org/test-services';
import { migrate } from '../src/db/migrations.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const DURATION_S = Number(process.env.BENCH_DURATION ?? 5);
const RATE = Number(process.env.BENCH_RATE ?? 200);
const CONNECTIONS = 10;

interface Run {
  p50: number;
  p99: number;
  rps: number;
  cpuUs: number;
  non2xx: number;
}

const pg = await sharedPostgres('api_bench_ghl');
const child = spawn(process.execPath, ['--import', 'tsx', 'bench/ghl-server.ts'], {
  cwd: fileURLToPath(new URL('..', import.meta.url)),
  env: { ...process.env, NODE_ENV: 'production', BENCH_DATABASE_URL: pg.url },
  stdio: ['ignore', 'pipe', 'inherit'],
});
try {
  await migrate({ url: pg.url });
  const line = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const ready = out.split('\n').find((l) => l.startsWith('READY '));
      if (ready) resolve(ready);
    });
    child.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
  });
  const [, port, cookie, workflowId] = line.split(' ');
  const origin = `http://127.0.0.1:${port}`;
  const cpu = async () => {
    const u = (await (await fetch(`${origin}/api/cpu`)).json()) as { user: number; system: number };
    return u.user + u.system;
  };
  const body = JSON.stringify({ workflowId });
  const targets = {
    'GET /api/workflows (cached)': { method: 'GET' as const, path: '/api/workflows' },
    'POST /api/analyze (cache hit)': { method: 'POST' as const, path: '/api/analyze', body },
  };
  const load = async (
    t: { method: 'GET' | 'POST'; path: string; body?: string },
    durationS = DURATION_S,
  ): Promise<Run> => {
    const before = await cpu();
    const r = await autocannon({
      url: `${origin}${t.path}`,
      method: t.method,
      body: t.body,
      connections: CONNECTIONS,
      duration: durationS,
      overallRate: RATE,
      headers: {
        cookie: cookie!,
        'accept-encoding': 'gzip',
        ...(t.body ? { 'content-type': 'application/json' } : {}),
      },
    });
    const used = (await cpu()) - before;
    return {
      p50: r.latency.p50,
      p99: r.latency.p99,
      rps: r.requests.average,
      cpuUs: used / Math.max(1, r.requests.total),
      non2xx: r.non2xx + r.errors,
    };
  };
  // Warm-up fills the caches (the first analyze is a miss that runs the analyzer and stores the result).
  for (const t of Object.values(targets)) await load(t, 2);
  const runs = await interleave(
    ROUNDS,
    Object.fromEntries(Object.entries(targets).map(([name, t]) => [name, () => load(t)])),
  );
  for (const list of Object.values(runs))
    if (list.some((r) => r.non2xx > 0)) throw new Error(`non-2xx responses: ${JSON.stringify(list)}`);
  const m = (name: string, f: (r: Run) => number) => median(runs[name]!.map(f));
  const [list, analyze] = Object.keys(targets) as [string, string];
  const versions = await versionsOf(['express', 'pg', 'autocannon', 'zod'], import.meta.url);
  console.log(
    `\nNode ${process.version}; ${Object.entries(versions)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}`,
  );
  console.log(
    `${ROUNDS} interleaved rounds of ${DURATION_S} s at ${RATE} req/s, ${CONNECTIONS} connections; medians.\n`,
  );
  console.log(
    markdownTable(
      ['endpoint', 'req/s', 'p50 ms', 'p99 ms', 'server CPU µs/req', 'p50 vs list', 'p99 vs list', 'CPU vs list'],
      [
        [
          list,
          m(list, (r) => r.rps),
          m(list, (r) => r.p50),
          m(list, (r) => r.p99),
          m(list, (r) => r.cpuUs),
          '1.00x',
          '1.00x',
          '1.00x',
        ],
        [
          analyze,
          m(analyze, (r) => r.rps),
          m(analyze, (r) => r.p50),
          m(analyze, (r) => r.p99),
          m(analyze, (r) => r.cpuUs),
          ratio(
            m(analyze, (r) => r.p50),
            m(list, (r) => r.p50),
          ),
          ratio(
            m(analyze, (r) => r.p99),
            m(list, (r) => r.p99),
          ),
          ratio(
            m(analyze, (r) => r.cpuUs),
            m(list, (r) => r.cpuUs),
          ),
        ],
      ],
    ),
  );
  const p50Ratio = m(analyze, (r) => r.p50) / m(list, (r) => r.p50);
  console.log(
    `\nTarget: POST /analyze (cache hit) p50 within 1.5x of the cached list: ${p50Ratio.toFixed(2)}x ${p50Ratio <= 1.5 ? 'PASS' : 'FAIL'}`,
  );
} finally {
  child.kill('SIGKILL');
  await pg.cleanup();
}
