// The server as a user runs it: `pnpm start` from the repository root with nothing but a temporary DATA_DIR and a free
// PORT, exercised only over HTTP: every curl line of the READMEs and the docs pages as written (in the order of
// support/documented-pages.ts), the documented rate limits, and the operational endpoints.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { promtool } from '@org/test-services';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request, sequential, type Reply } from './support/http.js';
import { DOCUMENTED_PAGES } from './support/documented-pages.js';
import { REPO_ROOT } from './support/paths.js';
import { CookieJars, curlLines, curlRequest, documented } from './support/readme-curl.js';
import { pnpmStart, type Server } from './support/server.js';
import { parseShape, shapeMismatches } from './support/shape.js';

const lines = DOCUMENTED_PAGES.flatMap((page) => curlLines(join(REPO_ROOT, page)));
const relative = (file: string) => file.slice(REPO_ROOT.length);

// Each client of the server's per-IP limits gets its own loopback source address.
const README_CLIENT = '127.0.0.1';
const WORKFLOWS_CLIENT = '127.0.0.2';
const ANALYZE_CLIENT = '127.0.0.3';

let server: Server;
beforeAll(async () => {
  server = await pnpmStart();
  console.log(`pnpm start: /ready answered 200 after ${Math.round(server.startMs)} ms`);
}, 180_000);
afterAll(async () => {
  const exit = await server?.stop();
  void exit;
});

describe('pnpm start', () => {
  it('logs where to look, on the PORT it was given', async () => {
    // The line travels through pnpm's pipe while /ready answers over a socket: with both cores busy it can arrive a
    // moment after the 200 that ended the start-up wait.
    const line = `api ready on ${server.base}  health: ${server.base}/health`;
    for (let waited = 0; waited < 10_000 && !server.proc.output().includes(line); waited += 50)
      await new Promise((resolve) => setTimeout(resolve, 50));
    expect(server.proc.output()).toContain(line);
  });
});

describe('the documented curl lines (READMEs, then docs pages), in the order written', () => {
  it('the documented pages have curl lines to run', () => {
    expect(lines.length).toBeGreaterThan(0);
  });

  const jars = new CookieJars();
  for (const line of lines) {
    it(`${relative(line.file)}:${line.line} ${line.source}`, async () => {
      const where = `${relative(line.file)}:${line.line}`;
      const answer = documented(line.comment);
      if (!answer)
        throw new Error(
          `${where}: the curl line documents no answer; end it with a comment like "# → 200 { success: true, data: { ... } }"`,
        );
      const req = curlRequest(line.source);
      const headers = { ...req.headers };
      const cookie = req.cookie ?? (req.readJar ? jars.cookieHeader(req.readJar) : undefined);
      if (cookie) headers.cookie = cookie;
      const reply = await request(`${server.base}${req.path}`, {
        method: req.method,
        headers,
        body: req.body,
        localAddress: README_CLIENT,
      });
      if (req.writeJar) jars.store(req.writeJar, reply.headers['set-cookie']);
      expect(reply.status, `${where}: ${reply.text.slice(0, 500)}`).toBe(answer.status);
      if (answer.shape) {
        expect(reply.headers['content-type'], where).toMatch(/^application\/json/);
        expect(shapeMismatches(reply.json, parseShape(answer.shape)), `${where}: ${reply.text.slice(0, 500)}`).toEqual(
          [],
        );
      }
    });
  }
});

describe('the documented rate limits (free tier, anonymous clients keyed by address)', () => {
  const expectLimitHeaders = (r: Reply, limit: number) => {
    expect(r.headers['x-ratelimit-limit']).toBe(String(limit));
    expect(Number(r.headers['x-ratelimit-remaining'])).toBeGreaterThanOrEqual(0);
    expect(Number(r.headers['x-ratelimit-reset'])).toBeGreaterThan(Date.now() / 1000 - 1);
  };

  it('25 x GET /api/workflows: 1-20 get 401 (no session), 21-25 get 429 with Retry-After, X-RateLimit-* and the upgrade body', async () => {
    const replies = await sequential(25, `${server.base}/api/workflows`, { localAddress: WORKFLOWS_CLIENT });
    expect(replies.map((r) => r.status)).toEqual([...Array(20).fill(401), ...Array(5).fill(429)]);
    replies.slice(0, 20).forEach((r, n) => {
      expectLimitHeaders(r, 20);
      expect(r.headers['x-ratelimit-remaining']).toBe(String(19 - n));
    });
    for (const r of replies.slice(20)) {
      expectLimitHeaders(r, 20);
      expect(r.headers['x-ratelimit-remaining']).toBe('0');
      const retryAfter = Number(r.headers['retry-after']);
      expect(retryAfter).toBeGreaterThan(0);
      expect(retryAfter).toBeLessThanOrEqual(60);
      expect(r.json).toEqual({
        success: false,
        error: {
          message: 'Free tier rate limit exceeded. Upgrade to Pro for higher limits.',
          code: 'RATE_LIMIT_EXCEEDED',
          retryAfter: expect.any(Number),
          currentTier: 'free',
          upgradeUrl: '/api/subscription/checkout',
          limits: { current: 20, pro: 100 },
          // The app's error envelope adds the request id.
          ...((r.json as { error: { requestId?: string } }).error.requestId
            ? { requestId: r.headers['x-request-id'] }
            : {}),
        },
      });
    }
  });

  it('12 x POST /api/analyze without a credential: all 401; an anonymous caller spends no analysis budget', async () => {
    const replies = await sequential(12, `${server.base}/api/analyze`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ workflowId: '2131b35d-8546-53d3-857c-5ef0c31c2985' }),
      localAddress: ANALYZE_CLIENT,
    });
    expect(replies.map((r) => r.status)).toEqual(Array(12).fill(401));
    for (const r of replies) expect(r.json).toMatchObject({ success: false, error: { code: 'UNAUTHORIZED' } });
  });
});

describe('operational endpoints', () => {
  it('/live and /health answer 200; /health is { status, version }', async () => {
    expect((await request(`${server.base}/live`)).status).toBe(200);
    const health = await request(`${server.base}/health`);
    expect(health.status).toBe(200);
    expect(health.json).toMatchObject({ status: expect.any(String), version: expect.any(String) });
  });

  it('/ready answers 200 once started and migrated', async () => {
    expect((await request(`${server.base}/ready`)).status).toBe(200);
  });

  it('/health/detailed and /internal/cache-stats answer 404 without the internal token (not advertised)', async () => {
    for (const path of ['/health/detailed', '/internal/cache-stats']) {
      expect((await request(`${server.base}${path}`)).status, path).toBe(404);
      expect(
        (await request(`${server.base}${path}`, { headers: { authorization: 'Bearer not-the-internal-token-at-all' } }))
          .status,
        path,
      ).toBe(404);
    }
  });

  it('/metrics is Prometheus text that passes promtool check metrics, with the RED, rate-limit and business families', async () => {
    const metrics = await request(`${server.base}/metrics`);
    expect(metrics.status).toBe(200);
    expect(metrics.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    const check = promtool(['check', 'metrics'], metrics.text);
    expect(check.output).toBe('');
    expect(check.code).toBe(0);
    for (const family of [
      'http_requests_total',
      'http_request_duration_seconds',
      'rate_limit_exceeded_total',
      'workflow_analysis_total',
      'dependency_up',
    ]) {
      expect(metrics.text, family).toMatch(new RegExp(`^# TYPE ${family} `, 'm'));
    }
    // The limits above were counted.
    expect(metrics.text).toMatch(/^rate_limit_exceeded_total\{tier="free",policy="general"\} 5$/m);
    expect(metrics.text).not.toMatch(/^rate_limit_exceeded_total\{tier="free",policy="analysis"\} [1-9]/m);
    const open = await request(`${server.base}/metrics`, { headers: { accept: 'application/openmetrics-text' } });
    expect(open.headers['content-type']).toMatch(/^application\/openmetrics-text; version=1\.0\.0/);
    expect(open.text.trimEnd().endsWith('# EOF')).toBe(true);
  });

  it('/openapi.json is an OpenAPI 3.1 document of the API; /api-docs serves the Swagger UI', async () => {
    const doc = await request(`${server.base}/openapi.json`);
    expect(doc.status).toBe(200);
    const json = doc.json as { openapi: string; paths: Record<string, unknown>; servers: { url: string }[] };
    expect(json.openapi).toMatch(/^3\.1\./);
    expect(json.servers.map((s) => s.url)).toEqual(expect.arrayContaining(['/api', '/v1/api']));
    expect(Object.keys(json.paths)).toEqual(
      expect.arrayContaining(['/workflows', '/analyze', '/history', '/subscription']),
    );
    const ui = await request(`${server.base}/api-docs`);
    expect(ui.status).toBe(200);
    expect(ui.headers['content-type']).toMatch(/^text\/html/);
    expect(ui.text).toMatch(/swagger/i);
  });

  it('the process tree stops on SIGTERM and frees the port', async () => {
    await server.stop();
    expect(server.proc.exit()).toBeDefined();
    const after = spawnSync('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', `${server.base}/live`], {
      encoding: 'utf8',
    });
    expect(after.stdout).toBe('000');
  });
});
