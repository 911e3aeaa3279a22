// The tier's analysis limit cannot be bypassed by spelling the path differently: the routes that run analyses charge
// the budget themselves, and routing is case-sensitive and strict. Attacked over HTTP against src/main.ts.
import { hasSharedPostgres } from '@org/test-services';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_WORKFLOW, startSecurityApp, type SecurityApp } from '../support/security-app.js';

const pgUp = await hasSharedPostgres();

describe.skipIf(!pgUp)('analysis limit bypass through path variants (free tier: 10 analyses an hour)', () => {
  let app: SecurityApp;
  let cookie: string;
  const analyze = (path: string) =>
    fetch(`${app.base}${path}`, {
      method: 'POST',
      headers: { cookie, 'content-type': 'application/json' },
      body: JSON.stringify({ workflowId: DEMO_WORKFLOW }),
    });

  beforeAll(async () => {
    app = await startSecurityApp('sec_analysis_limit');
    cookie = await app.login();
  }, 120_000);
  afterAll(async () => app?.stop());

  it('every route that runs an analysis spends the budget; after it, no spelling of the path analyses anything', async () => {
    // Location health analyses every workflow: it costs one analysis, as does each POST /analyze.
    expect((await fetch(`${app.base}/api/locations/current/health`, { headers: { cookie } })).status).toBe(200);
    for (let i = 0; i < 9; i++) expect((await analyze(i % 2 ? '/api/analyze' : '/v1/api/analyze')).status).toBe(200);

    const limited = await analyze('/api/analyze');
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(await limited.json()).toMatchObject({
      success: false,
      error: {
        code: 'RATE_LIMIT_EXCEEDED',
        currentTier: 'free',
        upgradeUrl: '/api/subscription/checkout',
        limits: { current: 10, pro: 100 },
      },
    });
    expect((await analyze('/v1/api/analyze')).status).toBe(429);
    expect((await fetch(`${app.base}/api/locations/current/health`, { headers: { cookie } })).status).toBe(429);

    // Case and slash variants are not routes at all (case-sensitive, strict routing): 404, never an analysis.
    for (const path of [
      '/API/analyze',
      '/api/Analyze',
      '/v1/API/analyze',
      '/V1/api/analyze',
      '/api/ANALYZE',
      '/api/analyze/',
      '/v1/api/analyze/',
      '//api/analyze',
    ]) {
      const res = await analyze(path);
      expect(res.status, path).not.toBe(200);
      expect([404, 429], path).toContain(res.status);
    }
  }, 60_000);

  it('an async analysis spends the budget too (429 once it is spent)', async () => {
    const res = await fetch(`${app.base}/api/analyze`, {
      method: 'POST',
      headers: { cookie, 'content-type': 'application/json' },
      body: JSON.stringify({ workflowId: DEMO_WORKFLOW, async: true }),
    });
    expect(res.status).toBe(429);
  });

  it('a malformed analyze body is answered 400 and spends nothing', async () => {
    const other = await startSecurityApp('sec_analysis_limit_400');
    try {
      const session = await other.login();
      for (let i = 0; i < 12; i++) {
        const res = await fetch(`${other.base}/api/analyze`, {
          method: 'POST',
          headers: { cookie: session, 'content-type': 'application/json' },
          body: '{"nope":1}',
        });
        expect(res.status).toBe(400);
      }
      const res = await fetch(`${other.base}/api/analyze`, {
        method: 'POST',
        headers: { cookie: session, 'content-type': 'application/json' },
        body: JSON.stringify({ workflowId: DEMO_WORKFLOW }),
      });
      expect(res.status).toBe(200);
    } finally {
      await other.stop();
    }
  }, 120_000);
});
