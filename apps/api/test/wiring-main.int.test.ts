// The user's rate-limit check against the real composition root (src/main.ts in a child process) with the real
// workflow routes: plain requests, no cookie, Redis (private server) and PostgreSQL (shared) as in production.
// TRUST_PROXY_HOPS=1 lets the two loops come from two client addresses, as they would through a load balancer.
import { execFile } from 'node:child_process';
import {
  canStartRedis,
  hasSharedPostgres,
  sharedPostgres,
  startRedis,
  type PrivateRedis,
  type SharedPostgres,
} from '@org/test-services';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnApp, waitReady, type AppProcess } from './support/child.js';
import { TEST_SECRETS } from './support/app.js';

const pgUp = await hasSharedPostgres();
/** Runs a command with `input` on stdin; resolves with its output whatever the exit code (the test reads the output). */
function run(command: string, args: string[], input: string): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = execFile(command, args, (error, stdout, stderr) =>
      error && !('code' in error) ? reject(error) : resolve({ stdout, stderr }),
    );
    child.stdin!.end(input);
  });
}
const redisOk = await canStartRedis();

async function hits(url: string, n: number, init: RequestInit) {
  const out: { status: number; body: { error?: Record<string, unknown> } }[] = [];
  for (let i = 0; i < n; i++) {
    const res = await fetch(url, init);
    out.push({ status: res.status, body: (await res.json()) as { error?: Record<string, unknown> } });
  }
  return out;
}

describe.skipIf(!pgUp || !redisOk)(
  'the documented rate-limit check against src/main.ts (child process, Redis, PostgreSQL)',
  () => {
    let pg: SharedPostgres;
    let redis: PrivateRedis;
    let app: AppProcess;
    beforeAll(async () => {
      pg = await sharedPostgres('api_wiring_main');
      redis = await startRedis();
      app = await spawnApp('src/main.ts', {
        NODE_ENV: 'test',
        DATABASE_URL: pg.url,
        REDIS_URL: redis.url,
        // Redis answers late on a loaded machine: this test counts limits, it is not about the decision deadline.
        RATE_LIMIT_TIMEOUT_MS: '1000',
        TRUST_PROXY_HOPS: '1',
        SESSION_SECRET: TEST_SECRETS.sessionSecret,
        INTERNAL_TOKEN: TEST_SECRETS.internalToken,
      });
      await waitReady(app);
    }, 90_000);
    afterAll(async () => {
      app?.child.kill('SIGTERM');
      await app?.exited;
      await redis?.stop();
      await pg?.cleanup();
    });

    it('25 x GET /api/workflows: 1-20 get 401 (the route needs a session), 21-25 get 429 from the free tier', async () => {
      const res = await hits(`${app.base}/api/workflows`, 25, { headers: { 'x-forwarded-for': '203.0.113.10' } });
      expect(res.slice(0, 20).map((r) => r.status)).toEqual(Array(20).fill(401));
      expect(res.slice(20).map((r) => r.status)).toEqual(Array(5).fill(429));
      expect(res[24]!.body.error).toMatchObject({
        code: 'RATE_LIMIT_EXCEEDED',
        currentTier: 'free',
        upgradeUrl: '/api/subscription/checkout',
        limits: { current: 20, pro: 100 },
      });
    });

    it('12 x POST /api/analyze without a credential: all 401 (an anonymous caller runs no analysis, so it spends none)', async () => {
      const res = await hits(`${app.base}/api/analyze`, 12, {
        method: 'POST',
        headers: { 'x-forwarded-for': '203.0.113.11', 'content-type': 'application/json' },
        body: JSON.stringify({ workflowId: 'wf-1' }),
      });
      expect(res.map((r) => r.status)).toEqual(Array(12).fill(401));
    });

    it('serves /metrics with the GHL, workflow and billing metrics registered by main.ts', async () => {
      const text = await (await fetch(`${app.base}/metrics`)).text();
      for (const family of [
        'ghl_api_requests_total',
        'workflow_analysis_total',
        'subscription_events_total',
        'active_users',
        'rate_limit_exceeded_total',
        'dependency_up',
      ]) {
        expect(text, family).toMatch(new RegExp(`^# TYPE ${family} `, 'm'));
      }
      expect(text).toMatch(/^rate_limit_exceeded_total\{tier="free",policy="general"\} 5$/m);
      expect(text).toMatch(/^dependency_up\{dependency="redis"\} 1$/m);
      expect(text).toMatch(/^active_users\{tier="free"\} \d+$/m);
      // The full exposition of the real process passes promtool (Prometheus text format).
      const { stdout, stderr } = await run('sh', ['-c', 'promtool check metrics'], text);
      expect(stdout + stderr).toBe('');
      const docs = (await (await fetch(`${app.base}/openapi.json`)).json()) as { paths: Record<string, unknown> };
      expect(Object.keys(docs.paths)).toEqual(
        expect.arrayContaining(['/me', '/workflows', '/analyze', '/history', '/subscription']),
      );
    });
  },
);
