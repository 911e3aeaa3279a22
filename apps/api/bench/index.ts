// pnpm --filter api bench
// The full pipeline against bare Express on the same cached JSON GET: closed loop (autocannon, 10 connections)
// and a fixed 200 req/s, interleaved rounds, reported as ratios. Needs PostgreSQL (DATABASE_URL or 127.0.0.1:5432).
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { interleave, markdownTable, median, ratio, versionsOf } from '@org/bench';
import { sharedPostgres } from '@org/test-services';
import { migrate } from '../src/db/migrations.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const DURATION_S = Number(process.env.BENCH_DURATION ?? 5);
const CONNECTIONS = 10;
const FIXED_RATE = 200;

interface Target {
  child: ChildProcess;
  url: string;
  cookie: string | undefined;
}

async function startTarget(mode: 'full' | 'bare', env: Record<string, string>): Promise<Target> {
  const appDir = fileURLToPath(new URL('..', import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/server.ts', mode], { cwd: appDir, env: { ...process.env, ...env, NODE_ENV: 'production' }, stdio: ['ignore', 'pipe', 'inherit'] });
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
  return { child, url: `http://127.0.0.1:${port}/api/workflows`, cookie: cookie === '-' ? undefined : cookie };
}

interface Run {
  rps: number;
  p50: number;
  p99: number;
  non2xx: number;
}

async function load(target: Target, fixedRate: boolean): Promise<Run> {
  const result = await autocannon({
    url: target.url,
    connections: CONNECTIONS,
    duration: DURATION_S,
    headers: { 'accept-encoding': 'gzip', ...(target.cookie ? { cookie: target.cookie } : {}) },
    ...(fixedRate ? { overallRate: FIXED_RATE } : {}),
  });
  return { rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, non2xx: result.non2xx + result.errors };
}

const pg = await sharedPostgres('api_bench');
let full: Target | undefined;
let bare: Target | undefined;
try {
  await migrate({ url: pg.url });
  full = await startTarget('full', { BENCH_DATABASE_URL: pg.url });
  bare = await startTarget('bare', {});
  // Warm-up: JIT, pool connections, sockets.
  await load(full, false);
  await load(bare, false);

  const closed = await interleave(ROUNDS, { full: () => load(full!, false), bare: () => load(bare!, false) });
  const fixed = await interleave(ROUNDS, { full: () => load(full!, true), bare: () => load(bare!, true) });
  const m = (runs: Run[], f: (r: Run) => number) => median(runs.map(f));
  for (const runs of [...Object.values(closed), ...Object.values(fixed)]) {
    if (runs.some((r) => r.non2xx > 0)) throw new Error(`non-2xx responses during the bench: ${JSON.stringify(runs)}`);
  }

  const versions = await versionsOf(['express', 'pino', 'pino-http', 'helmet', 'compression', 'pg', 'autocannon'], import.meta.url);
  console.log(`\nNode ${process.version}; ${Object.entries(versions).map(([k, v]) => `${k} ${v}`).join(', ')}`);
  console.log(`${ROUNDS} interleaved rounds of ${DURATION_S} s, ${CONNECTIONS} connections, gzip accepted; medians.\n`);
  console.log(
    markdownTable(
      ['load', 'target', 'req/s', 'p50 ms', 'p99 ms', 'req/s vs bare', 'p50 vs bare', 'p99 vs bare'],
      [
        ['closed loop', 'full stack', m(closed.full!, (r) => r.rps), m(closed.full!, (r) => r.p50), m(closed.full!, (r) => r.p99), ratio(m(closed.full!, (r) => r.rps), m(closed.bare!, (r) => r.rps)), ratio(m(closed.full!, (r) => r.p50), m(closed.bare!, (r) => r.p50)), ratio(m(closed.full!, (r) => r.p99), m(closed.bare!, (r) => r.p99))],
        ['closed loop', 'bare Express', m(closed.bare!, (r) => r.rps), m(closed.bare!, (r) => r.p50), m(closed.bare!, (r) => r.p99), '1.00x', '1.00x', '1.00x'],
        [`${FIXED_RATE} req/s`, 'full stack', m(fixed.full!, (r) => r.rps), m(fixed.full!, (r) => r.p50), m(fixed.full!, (r) => r.p99), ratio(m(fixed.full!, (r) => r.rps), m(fixed.bare!, (r) => r.rps)), ratio(m(fixed.full!, (r) => r.p50), m(fixed.bare!, (r) => r.p50)), ratio(m(fixed.full!, (r) => r.p99), m(fixed.bare!, (r) => r.p99))],
        [`${FIXED_RATE} req/s`, 'bare Express', m(fixed.bare!, (r) => r.rps), m(fixed.bare!, (r) => r.p50), m(fixed.bare!, (r) => r.p99), '1.00x', '1.00x', '1.00x'],
      ],
    ),
  );
} finally {
  full?.child.kill('SIGKILL');
  bare?.child.kill('SIGKILL');
  await pg.cleanup();
}
