// pnpm --filter api build && pnpm --filter api bench:overhead
// The BUILT API (node dist/main.js --role api, NODE_ENV=production, PostgreSQL + a private Redis) against bare Express 5
// returning the same JSON, on the cached `GET /api/workflows`: closed loop with wrk (1 thread, 50 connections),
// interleaved rounds, reported as the req/s ratio and the server's CPU time per request (/proc/<pid>/stat).
//
// The production tiers are in force (enterprise: 500 general requests per minute per location), so the load rotates
// over BENCH_LOCATIONS enterprise locations, each with its own credential (sessions, or API keys with
// BENCH_CREDENTIAL=api-key) and a few imported workflows: every request is authenticated, rate limited and a cache hit.
// Needs PostgreSQL (DATABASE_URL or 127.0.0.1:5432), redis-server on the PATH and wrk.
//
// BENCH_BASELINE_REF=<git revision> (e.g. main) builds that revision's apps/api against this checkout's libraries
// (in node_modules/.cache, ignored by git) and runs it as a third target in the same interleaved rounds: before/after
// in one run. BENCH_BASELINE=<dir> does the same with a folder already built (its dist/, package.json, migrations/).
// BENCH_PROFILE=1 adds one profiled run of the API (node --cpu-prof) and prints its CPU time per pipeline stage.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync, openSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { interleave, markdownTable, median, ratio, versionsOf } from '@org/bench';
import { freePort, sharedPostgres, startRedis, waitFor } from '@org/test-services';
import { createApiKeyStore } from '../src/auth/api-keys.js';
import { createSessionStore } from '../src/auth/sessions.js';
import { aggregateProfile, stageNames, topFrames, type CpuProfile } from './profile-stages.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const DURATION_S = Number(process.env.BENCH_DURATION ?? 5);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const LOCATIONS = Number(process.env.BENCH_LOCATIONS ?? 300);
const WORKFLOWS_PER_LOCATION = 3;
const CREDENTIAL = process.env.BENCH_CREDENTIAL === 'api-key' ? 'api-key' : 'session';
const PROFILE = process.env.BENCH_PROFILE === '1';

const APP_DIR = fileURLToPath(new URL('..', import.meta.url));

/** `git archive <ref> apps/api`, built with this checkout's tsup and resolving this checkout's packages. */
function buildBaseline(ref: string): string {
  const root = join(APP_DIR, 'node_modules/.cache/bench-baseline', ref.replace(/[^\w.-]/g, '_'));
  const dir = join(root, 'apps/api');
  const run = (command: string, args: string[], cwd: string) => {
    const r = spawnSync(command, args, { cwd, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`${command} ${args.join(' ')} failed:\n${r.stdout}\n${r.stderr}`);
  };
  run('rm', ['-rf', root], APP_DIR);
  run('mkdir', ['-p', root], APP_DIR);
  run(
    'sh',
    ['-c', `git archive ${JSON.stringify(ref)} apps/api | tar -x -C ${JSON.stringify(root)}`],
    join(APP_DIR, '../..'),
  );
  run('ln', ['-s', join(APP_DIR, 'node_modules'), join(dir, 'node_modules')], APP_DIR);
  run(join(APP_DIR, '../../node_modules/.bin/tsup'), [], dir);
  return dir;
}
const SECRETS = {
  SESSION_SECRET: 'bench-session-secret-0123456789abcdef0123',
  INTERNAL_TOKEN: 'bench-internal-token-0123456789abcdef',
  ENCRYPTION_KEY: 'b2'.repeat(32),
  GHL_CLIENT_ID: 'bench-client',
  GHL_CLIENT_SECRET: 'bench-ghl-client-secret',
  STRIPE_SECRET_KEY: 'sk_test_bench0123456789',
  STRIPE_WEBHOOK_SECRET: 'whsec_bench0123456789',
};

interface Server {
  name: string;
  child: ChildProcess;
  pid: number;
  origin: string;
}

/** utime + stime of a process (all its threads), in microseconds. */
function cpuUs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  return (ticks * 1e6) / CLOCK_TICKS;
}
const CLOCK_TICKS = Number(spawnSync('getconf', ['CLK_TCK']).stdout.toString().trim()) || 100;

async function waitHttp(origin: string, path: string, child: ChildProcess, output: () => string): Promise<void> {
  await waitFor(
    `${origin}${path}`,
    async () => {
      if (child.exitCode !== null) throw new Error(`server exited (${child.exitCode}):\n${output()}`);
      const res = await fetch(`${origin}${path}`).catch(() => undefined);
      return res?.status === 200;
    },
    120_000,
    100,
  );
}

async function startApi(
  env: Record<string, string>,
  logFile: string,
  extraNodeArgs: string[] = [],
  cwd = APP_DIR,
  name = 'api',
): Promise<Server> {
  const port = await freePort();
  const out = openSync(logFile, 'a');
  const child = spawn(process.execPath, [...extraNodeArgs, 'dist/main.js', '--role', 'api'], {
    cwd,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      ENV_FILE: '/nonexistent/.env',
      NODE_ENV: 'production',
      HOST: '127.0.0.1',
      PORT: String(port),
      FRONTEND_URL: 'https://app.example.test',
      LOG_LEVEL: 'info',
      ...SECRETS,
      ...env,
    },
    // The access log is written as in production (JSON lines on stdout), into a file.
    stdio: ['ignore', out, 'pipe'],
  });
  let errors = '';
  child.stderr!.on('data', (d: Buffer) => (errors += d.toString()));
  const origin = `http://127.0.0.1:${port}`;
  await waitHttp(origin, '/ready', child, () => `${errors}\n${readFileSync(logFile, 'utf8').slice(-4000)}`);
  return { name, child, pid: child.pid!, origin };
}

async function startBare(body: string): Promise<Server> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'bare-express-'));
  const bodyFile = join(dir, 'body.json');
  writeFileSync(bodyFile, body);
  // Bare Express 5 from apps/api's own dependencies, sending the same JSON value with res.json.
  const source = `
    import express from 'express';
    import { readFileSync } from 'node:fs';
    const body = JSON.parse(readFileSync(${JSON.stringify(bodyFile)}, 'utf8'));
    const app = express();
    app.get('/api/workflows', (_req, res) => { res.json(body); });
    app.listen(${port}, '127.0.0.1');
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', source], {
    cwd: APP_DIR,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const origin = `http://127.0.0.1:${port}`;
  await waitHttp(origin, '/api/workflows', child, () => '');
  return { name: 'bare', child, pid: child.pid!, origin };
}

interface Run {
  /** Non-2xx responses and socket errors (at most 1 % of the requests). */
  failed: number;
  rps: number;
  cpuUsPerRequest: number;
  p50Ms: number;
  p99Ms: number;
}

/** wrk's Lua script: rotates over the credentials (one per location), gzip accepted as a browser does. */
function wrkScript(dir: string, name: string, headers: string[]): string {
  const file = join(dir, name);
  const list = headers.map((h) => `  ${JSON.stringify(h)},`).join('\n');
  writeFileSync(
    file,
    `local creds = {\n${list}\n}
local i = 0
local n = #creds
request = function()
  i = i % n + 1
  local h = { ["Accept-Encoding"] = "gzip" }
  if n > 0 then
    local name, value = creds[i]:match("^([^:]+): (.*)$")
    h[name] = value
  end
  return wrk.format("GET", "/api/workflows", h)
end
done = function(summary, latency, requests)
  io.write(string.format("RESULT %d %d %d %d %d %d\\n", summary.requests, summary.duration, summary.errors.status, summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout, latency:percentile(50), latency:percentile(99)))
end
`,
  );
  return file;
}

function runWrk(server: Server, script: string, durationS = DURATION_S, warmUp = false): Run {
  const before = cpuUs(server.pid);
  const result = spawnSync(
    'wrk',
    ['-t1', `-c${CONNECTIONS}`, `-d${durationS}s`, '-s', script, `${server.origin}/api/workflows`],
    { encoding: 'utf8' },
  );
  const after = cpuUs(server.pid);
  const line = result.stdout.split('\n').find((l) => l.startsWith('RESULT '));
  if (!line) throw new Error(`wrk failed: ${result.stdout}\n${result.stderr}`);
  const [requests, durationUs, non2xx, socketErrors, p50, p99] = line.split(' ').slice(1).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  // A few 503s (pool or Redis deadline under an overloaded machine) are reported; more than 1 % voids the run.
  if (!warmUp && non2xx + socketErrors > requests / 100)
    throw new Error(
      `${server.name}: ${non2xx} non-2xx responses and ${socketErrors} socket errors in ${requests} requests`,
    );
  return {
    failed: non2xx + socketErrors,
    rps: requests / (durationUs / 1e6),
    cpuUsPerRequest: (after - before) / requests,
    p50Ms: p50 / 1000,
    p99Ms: p99 / 1000,
  };
}

const work = mkdtempSync(join(tmpdir(), 'api-overhead-'));
const pg = await sharedPostgres('api_overhead');
const redis = await startRedis();
const servers: Server[] = [];
try {
  const env = { DATABASE_URL: pg.url, REDIS_URL: redis.url };
  const api = await startApi(env, join(work, 'api.log'));
  servers.push(api);

  // Tenants: enterprise locations, each with a credential and imported workflows.
  const fixturesDir = join(APP_DIR, 'fakes/ghl/workflows');
  const definitions = readdirSync(fixturesDir)
    .filter((f) => f.endsWith('.json') && !f.startsWith('_') && f !== 'expected.json')
    .slice(0, WORKFLOWS_PER_LOCATION)
    .map((f) => JSON.parse(readFileSync(join(fixturesDir, f), 'utf8')) as Record<string, unknown>);
  const { rows } = await pg.pool.query<{ id: string }>(
    "INSERT INTO accounts (email) VALUES ('bench@example.test') RETURNING id",
  );
  const accountId = rows[0]!.id;
  const sessions = createSessionStore(pg.pool as never, SECRETS.SESSION_SECRET);
  const keys = createApiKeyStore(pg.pool as never, SECRETS.SESSION_SECRET);
  const headers: string[] = [];
  for (let i = 0; i < LOCATIONS; i++) {
    const locationId = `loc-bench-${i}`;
    await pg.pool.query('INSERT INTO locations (id, account_id) VALUES ($1, $2)', [locationId, accountId]);
    await pg.pool.query(
      "INSERT INTO stripe_customers (location_id, customer_id, status, tier) VALUES ($1, $2, 'active', 'enterprise')",
      [locationId, `cus_bench_${i}`],
    );
    headers.push(
      CREDENTIAL === 'api-key'
        ? `Authorization: Bearer ${(await keys.create({ accountId, locationId, name: 'bench' })).key}`
        : `Cookie: __Host-session=${encodeURIComponent(await sessions.create(accountId, locationId, 3_600_000))}`,
    );
  }
  const call = async (path: string, header: string, init: RequestInit = {}) => {
    const [name, value] = [header.slice(0, header.indexOf(':')), header.slice(header.indexOf(':') + 2)];
    const res = await fetch(`${api.origin}${path}`, {
      ...init,
      headers: { ...(init.headers as Record<string, string>), [name]: value },
    });
    const text = await res.text();
    if (res.status >= 300) throw new Error(`${init.method ?? 'GET'} ${path}: ${res.status} ${text}`);
    return text;
  };
  let body = '';
  await Promise.all(
    Array.from({ length: 8 }, async (_, worker) => {
      for (let i = worker; i < LOCATIONS; i += 8) {
        for (const definition of definitions)
          await call('/api/workflows/import', headers[i]!, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ ...definition, locationId: `loc-bench-${i}` }),
          });
        const list = await call('/api/workflows', headers[i]!);
        if (i === 0) body = list;
      }
    }),
  );
  const bare = await startBare(body);
  servers.push(bare);
  const rotate = wrkScript(work, 'rotate.lua', headers);
  const bareScript = wrkScript(work, 'bare.lua', []);

  const baselineDir = process.env.BENCH_BASELINE_REF
    ? buildBaseline(process.env.BENCH_BASELINE_REF)
    : process.env.BENCH_BASELINE;
  const baseline = baselineDir
    ? await startApi(env, join(work, 'baseline.log'), [], baselineDir, 'baseline')
    : undefined;
  if (baseline) servers.push(baseline);

  // Warm-up: JIT, pools, caches.
  runWrk(api, rotate, 3, true);
  runWrk(bare, bareScript, 3, true);
  if (baseline) runWrk(baseline, rotate, 3, true);
  const runs = await interleave(ROUNDS, {
    ...(baseline ? { baseline: async () => runWrk(baseline, rotate) } : {}),
    api: async () => runWrk(api, rotate),
    bare: async () => runWrk(bare, bareScript),
  });
  const m = (name: string, f: (r: Run) => number) => median(runs[name]!.map(f));
  const row = (label: string, name: string) => [
    label,
    m(name, (r) => r.rps),
    m(name, (r) => r.p50Ms),
    m(name, (r) => r.p99Ms),
    m(name, (r) => r.cpuUsPerRequest),
    ratio(
      m(name, (r) => r.rps),
      m('bare', (r) => r.rps),
    ),
    ratio(
      m(name, (r) => r.cpuUsPerRequest),
      m('bare', (r) => r.cpuUsPerRequest),
    ),
    runs[name]!.reduce((n, r) => n + r.failed, 0),
  ];

  const versions = await versionsOf(
    ['express', 'pino', 'helmet', 'compression', 'pg', 'ioredis', 'prom-client'],
    import.meta.url,
  );
  console.log(
    `\nNode ${process.version}; ${Object.entries(versions)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}`,
  );
  console.log(
    `${ROUNDS} interleaved rounds of ${DURATION_S} s, wrk -t1 -c${CONNECTIONS}, gzip accepted, ${LOCATIONS} enterprise locations with a ${CREDENTIAL} each (rotated), ${WORKFLOWS_PER_LOCATION} imported workflows each; medians. Load average at the end: ${(
      await import('node:os')
    )
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}.\n`,
  );
  console.log(
    markdownTable(
      [
        'target',
        'req/s',
        'p50 ms',
        'p99 ms',
        'server CPU µs/req',
        'req/s vs bare',
        'CPU/req vs bare',
        'failed (all rounds)',
      ],
      [
        ...(baseline ? [row(`baseline build (${process.env.BENCH_BASELINE_REF ?? baselineDir})`, 'baseline')] : []),
        row('built API (dist/main.js --role api)', 'api'),
        row('bare Express 5', 'bare'),
      ],
    ),
  );
  console.log(
    `\nPer round, req/s (${Object.keys(runs).join(' / ')}): ${runs
      .api!.map((_, i) =>
        Object.values(runs)
          .map((r) => r[i]!.rps.toFixed(0))
          .join('/'),
      )
      .join(', ')}`,
  );

  if (PROFILE) {
    // Each API build once more under the V8 CPU profiler (same database and Redis, one run of the same load), its
    // samples charged to pipeline stages (bench/profile-stages.ts). µs/req = the stage's share of the profiled run
    // times the median CPU per request of the unprofiled rounds above (the profiler itself costs CPU).
    const targets = [...(baselineDir ? [{ name: 'baseline', cwd: baselineDir }] : []), { name: 'api', cwd: APP_DIR }];
    const shares = new Map<string, Map<string, number>>();
    for (const target of targets) {
      const profDir = join(work, `prof-${target.name}`);
      const profiled = await startApi(
        env,
        join(work, `${target.name}-prof.log`),
        ['--cpu-prof', `--cpu-prof-dir=${profDir}`, '--cpu-prof-interval=200'],
        target.cwd,
        `${target.name} (profiled)`,
      );
      servers.push(profiled);
      runWrk(profiled, rotate, 3, true);
      const from = Number(process.hrtime.bigint() / 1000n);
      runWrk(profiled, rotate);
      const to = Number(process.hrtime.bigint() / 1000n);
      profiled.child.kill('SIGINT');
      await new Promise((r) => profiled.child.once('exit', r));
      // The main thread's profile (the analysis worker threads write their own files, numbered after it).
      const file = readdirSync(profDir)
        .filter((f) => f.endsWith('.cpuprofile'))
        .sort()[0]!;
      const profile = JSON.parse(readFileSync(join(profDir, file), 'utf8')) as CpuProfile;
      const totals = aggregateProfile(profile, { from, to });
      const all = [...totals.values()].reduce((x, y) => x + y, 0);
      shares.set(target.name, new Map(stageNames().map((n) => [n, (totals.get(n) ?? 0) / all])));
      writeFileSync(
        join(work, `${target.name}-top-frames.txt`),
        topFrames(profile, 60, { from, to })
          .map((f) => `${f.us.toFixed(0).padStart(9)}  ${f.frame}`)
          .join('\n'),
      );
    }
    console.log(
      `\nCPU per pipeline stage (V8 CPU profile of one ${DURATION_S} s run per build; µs/req = share x the median server CPU per request above; top self-time frames in ${work}):\n`,
    );
    console.log(
      markdownTable(
        ['stage', ...targets.flatMap((t) => [`${t.name} share`, `${t.name} µs/req`])],
        stageNames().map((n) => [
          n,
          ...targets.flatMap((t) => {
            const share = shares.get(t.name)!.get(n)!;
            return [`${(100 * share).toFixed(1)} %`, (share * m(t.name, (r) => r.cpuUsPerRequest)).toFixed(0)];
          }),
        ]),
      ),
    );
  }
} finally {
  for (const s of servers) if (s.child.exitCode === null) s.child.kill('SIGKILL');
  await redis.stop();
  await pg.cleanup();
}
