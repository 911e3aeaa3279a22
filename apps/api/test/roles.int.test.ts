// The --role switch of main.ts in real child processes: `api` runs no BullMQ Worker (it only queues), `worker` and
// `all` do; a separate role without shared Redis and PostgreSQL is refused with a clear message.
import { spawn } from 'node:child_process';
import { freePort, hasSharedPostgres, hasSharedRedis, sharedPostgres, sharedRedis, waitFor } from '@org/test-services';
import { describe, expect, it } from 'vitest';
import { createBullAnalysisQueue } from '../src/jobs/index.js';
import { roleFromArgv } from '../src/start.js';
import { APP_DIR, waitReady, type AppProcess } from './support/child.js';

const pgUp = await hasSharedPostgres();
const redisUp = await hasSharedRedis();

async function spawnMain(args: string[], env: Record<string, string>): Promise<AppProcess> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', ...args], {
    cwd: APP_DIR,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      PORT: String(port),
      ENV_FILE: '/nonexistent/.env',
      NODE_ENV: 'test',
      ENABLE_METRICS: 'false',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal, at: performance.now() })),
  );
  return { child, port, base: `http://127.0.0.1:${port}`, output: () => output, exited };
}

describe('--role', () => {
  it('parses --role api|worker|all and --role=..., default all', () => {
    expect(roleFromArgv([])).toBe('all');
    expect(roleFromArgv(['--role', 'api'])).toBe('api');
    expect(roleFromArgv(['--role=worker'])).toBe('worker');
    expect(roleFromArgv(['x', '--role', 'all'])).toBe('all');
  });

  it('a separate role without REDIS_URL and DATABASE_URL is refused in one clear line (exit 1)', async () => {
    const app = await spawnMain(['--role', 'worker'], {});
    const exit = await app.exited;
    expect(exit.code).toBe(1);
    expect(app.output()).toContain('--role worker needs REDIS_URL and DATABASE_URL');
  }, 60_000);

  it.skipIf(!pgUp || !redisUp)(
    '--role api runs no queue worker; --role all does',
    async () => {
      const pg = await sharedPostgres('api_queue_roles');
      const redis = await sharedRedis('queue_roles');
      const prefix = redis.prefix.slice(0, -1);
      const queue = createBullAnalysisQueue({ redisUrl: redis.url, prefix });
      const env = { DATABASE_URL: pg.url, REDIS_URL: redis.url, QUEUE_PREFIX: prefix };
      const started: AppProcess[] = [];
      try {
        const api = await spawnMain(['--role', 'api'], env);
        started.push(api);
        await waitReady(api);
        expect(api.output()).toContain('"role":"api"');
        expect(await queue.queue.getWorkers()).toHaveLength(0);
        const all = await spawnMain(['--role', 'all'], env);
        started.push(all);
        await waitReady(all);
        await waitFor(
          'the all-role worker to register',
          async () => (await queue.queue.getWorkers()).length === 1,
          20_000,
        );
      } finally {
        for (const p of started) p.child.kill('SIGTERM');
        await Promise.all(started.map((p) => p.exited));
        await queue.close();
        await redis.cleanup();
        await pg.cleanup();
      }
    },
    120_000,
  );
});
