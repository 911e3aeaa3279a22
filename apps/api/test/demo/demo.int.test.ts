// Demo mode end to end over HTTP: the real composition root (src/main.ts) in a child process with no GHL
// credentials, then exactly the README's curl sequence (login, workflows, analyze, history).
import { fileURLToPath } from 'node:url';
import { hasSharedPostgres, sharedPostgres, type SharedPostgres } from '@org/test-services';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { migrate } from '../../src/db/migrations.js';
import { startFakeGhl, type FakeGhl } from '../../fakes/ghl/server.js';
import { createWorkflowModule } from '../../src/features/workflows/module.js';
import { createLogger } from '../../src/observability/logger.js';
import { spawnApp, waitReady, type AppProcess } from '../support/child.js';
import { startApp, type GhlApp } from '../support/app.js';

const pgUp = await hasSharedPostgres();
const FIXTURES = fileURLToPath(new URL('../../fakes/ghl/workflows', import.meta.url));

describe('demo mode switch', () => {
  it('is on only with an explicit DEMO_MODE=true, on loopback, outside production, without GHL credentials', () => {
    expect(loadConfig({ NODE_ENV: 'development' }).demoMode).toBe(false);
    expect(loadConfig({}).demoMode).toBe(false);
    expect(loadConfig({ DEMO_MODE: 'true' }).demoMode).toBe(true);
    expect(loadConfig({ NODE_ENV: 'test', DEMO_MODE: 'true' }).demoMode).toBe(true);
    expect(() => loadConfig({ DEMO_MODE: 'true', GHL_CLIENT_ID: 'real-id' })).toThrow(/DEMO_MODE/);
    expect(() => loadConfig({ DEMO_MODE: 'true', HOST: '0.0.0.0', SESSION_SECRET: 's'.repeat(32) })).toThrow(
      /DEMO_MODE/,
    );
  });

  it('createWorkflowModule refuses demo mode in production', async () => {
    await expect(
      createWorkflowModule({
        db: {} as never,
        logger: createLogger({ level: 'silent' }),
        isProduction: true,
        sessionSecret: 'x'.repeat(32),
        frontendUrl: 'https://app.example.test',
        ghl: {
          clientId: 'a',
          clientSecret: 'b',
          apiBaseUrl: 'https://x.test',
          authorizeUrl: 'https://x.test/c',
          redirectUri: 'https://x.test/cb',
        },
        encryption: { keys: { k1: Buffer.alloc(32) }, currentKeyId: 'k1' },
        demo: { fixturesDir: FIXTURES },
      }),
    ).rejects.toThrow(/production/);
  });
});

describe.skipIf(!pgUp)('demo mode over HTTP (shared PostgreSQL)', () => {
  let pg: SharedPostgres;
  let child: AppProcess;
  let fake: FakeGhl;
  let plain: GhlApp;

  beforeAll(async () => {
    pg = await sharedPostgres('api_ghl_demo');
    child = await spawnApp('src/main.ts', {
      NODE_ENV: 'development',
      DEMO_MODE: 'true',
      DATABASE_URL: pg.url,
      LOG_LEVEL: 'info',
    });
    await waitReady(child, 90_000);
  }, 120_000);
  afterAll(async () => {
    child?.child.kill('SIGTERM');
    await child?.exited;
    await plain?.close();
    await fake?.close();
    await pg?.cleanup();
  });

  it('login with a cookie jar, then GET /api/workflows, POST /api/analyze, GET /api/history', async () => {
    const login = await fetch(`${child.base}/auth/demo/login`, { method: 'POST' });
    expect(login.status).toBe(200);
    const cookie = login.headers.getSetCookie()[0]!.split(';')[0]!;
    expect(cookie).toMatch(/^session=/);

    const workflows = await fetch(`${child.base}/api/workflows`, { headers: { cookie } });
    expect(workflows.status).toBe(200);
    const list = ((await workflows.json()) as { data: { id: string; name: string; hasDefinition: boolean }[] }).data;
    expect(list.length).toBe(5);
    expect(list.every((w) => w.hasDefinition)).toBe(true);

    const reactivation = list.find((w) => w.name === 'Patient Reactivation - 12 Months')!;
    const analyze = await fetch(`${child.base}/api/analyze`, {
      method: 'POST',
      headers: { cookie, 'content-type': 'application/json' },
      body: JSON.stringify({ workflowId: reactivation.id }),
    });
    expect(analyze.status).toBe(200);
    const analysis = ((await analyze.json()) as { data: { score: number; findings: { ruleId: string }[] } }).data;
    expect(analysis.findings.map((f) => f.ruleId)).toContain('loop.tag-retrigger');
    expect(analysis.score).toBeLessThanOrEqual(40);

    const history = await fetch(`${child.base}/api/history`, { headers: { cookie } });
    expect(history.status).toBe(200);
    expect(((await history.json()) as { data: { items: unknown[] } }).data.items.length).toBeGreaterThanOrEqual(1);

    const health = await fetch(`${child.base}/api/locations/current/health`, { headers: { cookie } });
    expect(((await health.json()) as { data: { score: number } }).data.score).toEqual(expect.any(Number));
    expect(child.output()).toContain('demo mode');
  });

  it('without demo mode the demo login does not exist (404)', async () => {
    await migrate({ url: pg.url });
    fake = await startFakeGhl({ locations: {} });
    plain = await startApp({ url: pg.url, ghl: { fake } });
    expect((await fetch(`${plain.base}/auth/demo/login`, { method: 'POST' })).status).toBe(404);
  });
});
