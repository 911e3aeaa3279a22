// API and workers as separate processes from the build (apps/api/docs/jobs.md, "Running API and workers separately"),
// on the shared PostgreSQL (a database of this file's own) and Redis (a logical database of its own, a fresh queue
// prefix): migrations by hand, `node dist/main.js --role api`, one worker as `node dist/worker.js` and one as
// `pnpm --filter api start:worker`; background analyses queued through the API run on the workers.
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import {
  freePort,
  hasSharedPostgres,
  hasSharedRedis,
  promtool,
  sharedPostgres,
  waitFor,
  type SharedPostgres,
} from '@org/test-services';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from './support/http.js';
import { API_DIR, REPO_ROOT } from './support/paths.js';
import { startProcess, tail, userEnv, waitForHttp, type UserProcess } from './support/process.js';
import { claimRedisDb, type RedisDb } from './support/redis-db.js';
import { tempDir } from './support/server.js';

const servicesUp = (await hasSharedPostgres()) && (await hasSharedRedis());

describe.skipIf(!servicesUp)('API and workers from dist on the shared PostgreSQL and Redis', () => {
  let pg: SharedPostgres;
  let redis: RedisDb;
  let env: Record<string, string>;
  let dataDir: string | undefined;
  let api: UserProcess;
  let base: string;
  const workers: { proc: UserProcess; url: string }[] = [];

  beforeAll(async () => {
    pg = await sharedPostgres('api_e2e_workers');
    redis = await claimRedisDb();
    // RATE_LIMIT_TIMEOUT_MS: Redis answers late on a loaded machine, and this test is not about the decision deadline.
    // One DATA_DIR for every process: with no secrets set, development generates them there once, so the API and the
    // workers share them (encrypted GHL tokens, sessions) as a deployment shares its configured ones.
    dataDir = tempDir('workers');
    env = {
      DATABASE_URL: pg.url,
      REDIS_URL: redis.url,
      QUEUE_PREFIX: `e2e-${randomBytes(4).toString('hex')}`,
      RATE_LIMIT_TIMEOUT_MS: '1000',
      DATA_DIR: dataDir,
    };
  }, 60_000);
  afterAll(async () => {
    await Promise.all([api?.stop(), ...workers.map((w) => w.proc.stop())]);
    await redis?.release();
    await pg?.cleanup();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  const run = async (command: string, args: string[], cwd: string) => {
    const proc = startProcess(command, args, { cwd, env: userEnv(env) });
    const exit = await proc.exited;
    return { exit, output: proc.output() };
  };

  it('`pnpm --filter api migrate` applies the migrations; `node dist/migrate.js` then finds nothing to do', async () => {
    const first = await run('pnpm', ['--filter', 'api', 'migrate'], REPO_ROOT);
    expect(first.exit.code, first.output).toBe(0);
    expect(first.output).toMatch(/"migrations":\["001_accounts_auth",[^\n]*"msg":"migrated up"/);
    const second = await run(process.execPath, ['dist/migrate.js'], API_DIR);
    expect(second.exit.code, second.output).toBe(0);
    expect(second.output).toContain('"msg":"nothing to migrate"');
  });

  it('`node dist/main.js --role api` (DEMO_MODE=true) serves HTTP and runs no worker', async () => {
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    api = startProcess(process.execPath, ['dist/main.js', '--role', 'api'], {
      cwd: API_DIR,
      env: userEnv({ ...env, PORT: String(port), DEMO_MODE: 'true' }),
    });
    await waitForHttp(api, `${base}/ready`, 120_000);
    expect(api.output()).toMatch(/"role":"api"[^\n]*api ready on/);
  });

  it('`node dist/worker.js` and `pnpm --filter api start:worker` start workers with their own /ready and /metrics', async () => {
    // The workers reach GHL as in production (client credentials, API and builder base URLs). Here GHL is the demo's
    // fake GHL, which the API process serves in development without GHL credentials; its URL is in the API's log.
    const fakeGhl = /"fakeGhl":"(http:\/\/127\.0\.0\.1:\d+)"/.exec(api.output())?.[1];
    expect(fakeGhl, tail(api.output())).toBeDefined();
    const workerEnv = userEnv({
      ...env,
      WORKER_PORT: '0',
      GHL_CLIENT_ID: 'demo-client-id',
      GHL_CLIENT_SECRET: 'demo-client-secret',
      GHL_API_BASE_URL: fakeGhl!,
      GHL_BUILDER_BASE_URL: fakeGhl!,
    });
    const starts: [string, string[], string][] = [
      [process.execPath, ['dist/worker.js'], API_DIR],
      ['pnpm', ['--filter', 'api', 'start:worker'], REPO_ROOT],
    ];
    for (const [command, args, cwd] of starts) {
      const proc = startProcess(command, args, { cwd, env: workerEnv });
      let url: string | undefined;
      await waitFor(
        `${command} ${args.join(' ')}: worker ready`,
        async () => {
          if (proc.exit())
            throw new Error(
              `${proc.command} exited (${proc.exit()!.code}) before it was ready:\n${tail(proc.output())}`,
            );
          url = /"url":"(http:\/\/127\.0\.0\.1:\d+)"[^\n]*worker ready/.exec(proc.output())?.[1];
          return url !== undefined;
        },
        120_000,
        100,
      );
      workers.push({ proc, url: url! });
      expect((await request(`${url}/ready`)).status).toBe(200);
      expect((await request(`${url}/live`)).status).toBe(200);
    }
  });

  it('analyses queued through the API (async: true) complete on the workers, never on the API process', async () => {
    const login = await request(`${base}/auth/demo/login`, { method: 'POST' });
    expect(login.status, login.text).toBe(200);
    const cookie = login.headers['set-cookie']![0]!.split(';')[0]!;
    const list = (await request(`${base}/api/workflows`, { headers: { cookie } })).json as { data: { id: string }[] };
    const jobIds: string[] = [];
    for (const { id } of list.data) {
      const queued = await request(`${base}/api/analyze`, {
        method: 'POST',
        headers: { cookie, 'content-type': 'application/json' },
        body: JSON.stringify({ workflowId: id, async: true }),
      });
      expect(queued.status, queued.text).toBe(202);
      expect(queued.json).toMatchObject({
        success: true,
        data: { jobId: expect.any(String), status: 'queued', duplicate: false },
      });
      jobIds.push((queued.json as { data: { jobId: string } }).data.jobId);
    }
    expect(jobIds.length).toBe(list.data.length);
    for (const id of jobIds) {
      let job: { status: string; error?: string | null; result?: { score: number } | null } | undefined;
      await waitFor(
        `job ${id} completed`,
        async () => {
          job = ((await request(`${base}/api/jobs/${id}`, { headers: { cookie } })).json as { data: typeof job }).data;
          if (job?.status === 'failed') throw new Error(`job ${id} failed: ${job.error}`);
          return job?.status === 'completed';
        },
        60_000,
        100,
      );
      expect(job!.result!.score).toEqual(expect.any(Number));
    }

    // Attempts are counted where they run: every completion on a worker, none on the API process.
    const completedOn = async (url: string) => {
      const text = (await request(`${url}/metrics`)).text;
      return Number(/^analysis_jobs_total\{outcome="completed"\} (\d+)$/m.exec(text)?.[1] ?? 0);
    };
    const perWorker = await Promise.all(workers.map((w) => completedOn(w.url)));
    expect(perWorker.reduce((a, b) => a + b, 0)).toBe(jobIds.length);
    expect(await completedOn(base)).toBe(0);
    const history = (await request(`${base}/api/history?limit=20`, { headers: { cookie } })).json as {
      data: { items: unknown[] };
    };
    expect(history.data.items.length).toBe(jobIds.length);
  });

  it("a worker's /metrics passes promtool; SIGTERM stops every process with exit 0", async () => {
    const metrics = await request(`${workers[0]!.url}/metrics`);
    const check = promtool(['check', 'metrics'], metrics.text);
    expect(check.output).toBe('');
    // To each process group, as a terminal or a process manager does (pnpm alone does not always pass it on).
    for (const w of workers) w.proc.signal('SIGTERM');
    api.signal('SIGTERM');
    const exits = await Promise.all([api.exited, ...workers.map((w) => w.proc.exited)]);
    const outputs = [api, ...workers.map((w) => w.proc)].map((p) => tail(p.output(), 5)).join('\n');
    // The node processes exit 0; pnpm reports its own SIGTERM (a container runs node, not pnpm: see apps/api/docs/operations.md).
    expect(
      exits.slice(0, 2).map((e) => e.code),
      outputs,
    ).toEqual([0, 0]);
    for (const w of workers) expect(w.proc.output(), outputs).toContain('"msg":"worker stopped"');
    expect(api.output()).toContain('"msg":"stopped"');
  });
});
