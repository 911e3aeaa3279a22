// The built server as a container runs it (`node dist/main.js`, so SIGTERM reaches the server; apps/api/docs/operations.md,
// "Shutdown"), with the documented INTERNAL_TOKEN, SHUTDOWN_DELAY_MS and DRAIN_TIMEOUT_MS: the internal endpoints with
// and without the token, then SIGTERM with a request in flight, then `pnpm --filter api start:demo` on the same
// DATA_DIR.
import { connect, type Socket } from 'node:net';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { freePort } from '@org/test-services';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from './support/http.js';
import { API_DIR, REPO_ROOT } from './support/paths.js';
import { startProcess, userEnv, waitForHttp, type UserProcess } from './support/process.js';
import { tempDir } from './support/server.js';

const INTERNAL_TOKEN = `e2e-internal-${randomBytes(16).toString('hex')}`;
const SHUTDOWN_DELAY_MS = 2_500;
const DRAIN_TIMEOUT_MS = 5_000;

const dataDir = tempDir('shutdown');
let port: number;
let base: string;
let app: UserProcess;
let restarted: UserProcess | undefined;

beforeAll(async () => {
  port = await freePort();
  base = `http://127.0.0.1:${port}`;
  app = startProcess(process.execPath, ['dist/main.js'], {
    cwd: API_DIR,
    env: userEnv({
      DATA_DIR: dataDir,
      PORT: String(port),
      // What `start:demo` sets: the demo location and its login.
      DEMO_MODE: 'true',
      INTERNAL_TOKEN,
      SHUTDOWN_DELAY_MS: String(SHUTDOWN_DELAY_MS),
      DRAIN_TIMEOUT_MS: String(DRAIN_TIMEOUT_MS),
    }),
  });
  await waitForHttp(app, `${base}/ready`, 120_000);
}, 180_000);
afterAll(async () => {
  await app?.stop();
  await restarted?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

async function login(): Promise<string> {
  const res = await request(`${base}/auth/demo/login`, { method: 'POST' });
  expect(res.status, res.text).toBe(200);
  return res.headers['set-cookie']![0]!.split(';')[0]!;
}

describe('internal endpoints', () => {
  it('/health/detailed with the token (Bearer or X-Internal-Token): backends, database, migrations, versions', async () => {
    const variants: Record<string, string>[] = [
      { authorization: `Bearer ${INTERNAL_TOKEN}` },
      { 'x-internal-token': INTERNAL_TOKEN },
    ];
    for (const headers of variants) {
      const res = await request(`${base}/health/detailed`, { headers });
      expect(res.status, res.text).toBe(200);
      expect(res.json).toMatchObject({
        status: 'ok',
        backends: { database: 'pglite', cache: 'memory', rateLimit: 'memory' },
        versions: { app: expect.any(String), node: expect.stringMatching(/^v\d+/) },
      });
      expect(JSON.stringify(res.json)).toMatch(/006_location_audits/);
    }
  });

  it('/health/detailed and /internal/cache-stats answer 404 without the token or with a wrong one', async () => {
    for (const path of ['/health/detailed', '/internal/cache-stats']) {
      expect((await request(`${base}${path}`)).status).toBe(404);
      expect(
        (await request(`${base}${path}`, { headers: { authorization: `Bearer ${INTERNAL_TOKEN}x` } })).status,
      ).toBe(404);
      expect(
        (await request(`${base}${path}`, { headers: { 'x-internal-token': INTERNAL_TOKEN.slice(0, -1) } })).status,
      ).toBe(404);
    }
  });

  it('/internal/cache-stats with the token: the cache mode and its counters', async () => {
    const res = await request(`${base}/internal/cache-stats`, {
      headers: { authorization: `Bearer ${INTERNAL_TOKEN}` },
    });
    expect(res.status, res.text).toBe(200);
    expect(JSON.stringify(res.json)).toMatch(/"mode":"memory"/);
    expect(JSON.stringify(res.json)).toMatch(/"hits"/);
  });
});

describe('SIGTERM, then a restart on the same DATA_DIR', () => {
  const analyzed: string[] = [];

  it('/ready turns 503 at once (/live stays 200), the listener closes after SHUTDOWN_DELAY_MS, the request in flight completes, exit 0 within SHUTDOWN_DELAY_MS + DRAIN_TIMEOUT_MS + 1 s', async () => {
    const cookie = await login();
    const list = (await request(`${base}/api/workflows`, { headers: { cookie } })).json as { data: { id: string }[] };
    const [first, second] = list.data.map((w) => w.id);
    const sync = await request(`${base}/api/analyze`, {
      method: 'POST',
      headers: { cookie, 'content-type': 'application/json' },
      body: JSON.stringify({ workflowId: first }),
    });
    expect(sync.status, sync.text).toBe(200);
    analyzed.push(first!);

    // A request in flight: headers and half of the body sent before the signal, the rest once the listener is closed.
    const body = JSON.stringify({ workflowId: second });
    const socket: Socket = connect(port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    let raw = '';
    socket.on('data', (d: Buffer) => (raw += d.toString()));
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    socket.write(
      `POST /api/analyze HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nCookie: ${cookie}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n`,
    );
    socket.write(body.slice(0, 10));
    await new Promise((r) => setTimeout(r, 200));

    const t0 = performance.now();
    app.child.kill('SIGTERM');
    let ready: { status: number; headers: Record<string, unknown> } = { status: 0, headers: {} };
    for (let i = 0; i < 50 && ready.status !== 503; i++) {
      ready = await request(`${base}/ready`).catch(() => ({ status: -1, headers: {} }));
      if (ready.status !== 503) await new Promise((r) => setTimeout(r, 20));
    }
    expect(ready.status).toBe(503);
    // Requests that arrive while draining are told to reconnect elsewhere.
    expect(ready.headers.connection).toBe('close');
    expect(ready.headers['retry-after']).toBe('1');
    const readyAfterMs = performance.now() - t0;
    expect(readyAfterMs).toBeLessThan(SHUTDOWN_DELAY_MS);
    expect((await request(`${base}/live`)).status).toBe(200);

    // Past the delay the listener is closed: new connections are refused.
    await new Promise((r) => setTimeout(r, SHUTDOWN_DELAY_MS + 500));
    await expect(request(`${base}/live`)).rejects.toThrow(/ECONNREFUSED/);
    expect(app.exit(), 'the server waits for the request in flight').toBeUndefined();

    socket.write(body.slice(10));
    await closed;
    const exit = await app.exited;
    const exitMs = exit.at - t0;
    console.log(
      `SIGTERM: /ready 503 after ${readyAfterMs.toFixed(0)} ms, exit ${exit.code} after ${exitMs.toFixed(0)} ms`,
    );
    expect(raw).toMatch(/^HTTP\/1\.1 200 /);
    // ...and its socket was closed once the response was sent (`closed` above).
    expect(raw).toContain(`"workflowId":"${second}"`);
    analyzed.push(second!);
    expect(exit).toMatchObject({ code: 0, signal: null });
    expect(exitMs).toBeLessThan(SHUTDOWN_DELAY_MS + DRAIN_TIMEOUT_MS + 1_000);
    expect(app.output()).toContain('"msg":"stopped"');
    expect(app.output()).not.toContain(INTERNAL_TOKEN);
  });

  it('`pnpm --filter api start:demo` on the same DATA_DIR keeps the data: both analyses are in the history', async () => {
    restarted = startProcess('pnpm', ['--filter', 'api', 'start:demo'], {
      cwd: REPO_ROOT,
      env: userEnv({ DATA_DIR: dataDir, PORT: String(port) }),
    });
    await waitForHttp(restarted, `${base}/ready`, 120_000);
    expect(restarted.output()).toMatch(/"migrations":\[\][^\n]*database schema up to date/);
    const cookie = await login();
    const history = await request(`${base}/api/history?limit=10`, { headers: { cookie } });
    expect(history.status, history.text).toBe(200);
    const items = (history.json as { data: { items: { workflowId: string }[] } }).data.items;
    expect(items.map((i) => i.workflowId).sort()).toEqual([...analyzed].sort());
  });

  it('12 x POST /api/analyze by a session: 1-10 answer 200, 11 and 12 get 429 from the analysis policy (10 per hour), with the upgrade body', async () => {
    // The restarted process counts in memory from zero (no REDIS_URL), and this location has spent nothing since.
    const cookie = await login();
    const list = (await request(`${base}/api/workflows`, { headers: { cookie } })).json as { data: { id: string }[] };
    const replies = [];
    for (let i = 0; i < 12; i++) {
      const workflowId = list.data[i % list.data.length]!.id;
      replies.push(
        await request(`${base}/api/analyze`, {
          method: 'POST',
          headers: { cookie, 'content-type': 'application/json' },
          body: JSON.stringify({ workflowId }),
        }),
      );
    }
    expect(replies.map((r) => r.status)).toEqual([...Array(10).fill(200), 429, 429]);
    for (const r of replies.slice(10)) {
      expect(r.headers['x-ratelimit-limit']).toBe('10');
      expect(r.headers['x-ratelimit-remaining']).toBe('0');
      expect(Number(r.headers['retry-after'])).toBeGreaterThan(60);
      expect(r.json).toMatchObject({
        success: false,
        error: {
          code: 'RATE_LIMIT_EXCEEDED',
          message: 'Free tier rate limit exceeded. Upgrade to Pro for higher limits.',
          currentTier: 'free',
          upgradeUrl: '/api/subscription/checkout',
          limits: { current: 10, pro: 100 },
        },
      });
    }
  });
});
