import { Agent, request } from 'node:http';
import { hasSharedPostgres, sharedPostgres, type SharedPostgres } from '@org/test-services';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnApp, waitReady } from './support/child.js';
import { TEST_SECRETS } from './support/test-app.js';

const pgUp = await hasSharedPostgres();

const SHUTDOWN_DELAY_MS = 300;
const DRAIN_TIMEOUT_MS = 3_000;

function get(url: string, agent: Agent): Promise<{ status: number; connection: string | undefined }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode!, connection: res.headers.connection }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe.skipIf(!pgUp)('graceful shutdown under keep-alive load (child process, shared PostgreSQL)', () => {
  let pg: SharedPostgres;
  beforeAll(async () => {
    pg = await sharedPostgres('api_shutdown');
  });
  afterAll(async () => {
    await pg?.cleanup();
  });

  it('flips /ready at once, finishes in-flight requests, closes keep-alive sockets and the pool, exits 0 in time', async () => {
    const app = await spawnApp('test/support/main-with-test-routes.ts', {
      NODE_ENV: 'production',
      DATABASE_URL: pg.url,
      FRONTEND_URL: 'https://app.example.test',
      GHL_CLIENT_ID: 'ghl-client-id',
      GHL_CLIENT_SECRET: TEST_SECRETS.ghlClientSecret,
      ENCRYPTION_KEY: TEST_SECRETS.encryptionKeyHex,
      SESSION_SECRET: TEST_SECRETS.sessionSecret,
      STRIPE_SECRET_KEY: TEST_SECRETS.stripeSecretKey,
      STRIPE_WEBHOOK_SECRET: TEST_SECRETS.stripeWebhookSecret,
      INTERNAL_TOKEN: TEST_SECRETS.internalToken,
      HOST: '127.0.0.1',
      SHUTDOWN_DELAY_MS: String(SHUTDOWN_DELAY_MS),
      DRAIN_TIMEOUT_MS: String(DRAIN_TIMEOUT_MS),
    });
    await waitReady(app);
    const agent = new Agent({ keepAlive: true, maxSockets: 8 });
    const beforeSignal: Promise<{ status: number }>[] = [];
    const afterSignal: Promise<{ status: number } | { error: string }>[] = [];
    let signalled = false;

    // Keep-alive load: 8 sockets each looping on the 1 s endpoint until the server stops taking requests.
    const loops = Array.from({ length: 8 }, async () => {
      for (;;) {
        const pending = get(`${app.base}/api/test/slow`, agent);
        if (signalled) {
          const settled = pending.catch((error: NodeJS.ErrnoException) => ({ error: error.code ?? error.message }));
          afterSignal.push(settled);
          if ('error' in (await settled)) return;
        } else {
          beforeSignal.push(pending);
          await pending.catch(() => {});
        }
      }
    });
    await new Promise((r) => setTimeout(r, 1_500));
    const inFlightAtSignal = beforeSignal.length;
    signalled = true;
    const signalAt = performance.now();
    app.child.kill('SIGTERM');

    // During the pre-stop delay the listener is still open: /ready says 503 right away, /live stays 200.
    await new Promise((r) => setTimeout(r, 50));
    const probe = new Agent({ keepAlive: false });
    expect((await get(`${app.base}/ready`, probe)).status).toBe(503);
    expect((await get(`${app.base}/live`, probe)).status).toBe(200);

    const { code, at } = await app.exited;
    await Promise.all(loops);
    agent.destroy();

    console.log(`shutdown: exit after ${Math.round(at - signalAt)} ms; ${inFlightAtSignal} requests before SIGTERM, ${afterSignal.length} after`);
    expect(code).toBe(0);
    expect(at - signalAt).toBeLessThan(SHUTDOWN_DELAY_MS + DRAIN_TIMEOUT_MS + 1_000);
    expect(inFlightAtSignal).toBeGreaterThan(0);
    // Every request sent before SIGTERM completed with 200.
    for (const r of await Promise.all(beforeSignal)) expect(r.status).toBe(200);
    // Requests sent afterwards were either served (200) or refused at the socket once the listener closed; never 5xx.
    for (const r of await Promise.all(afterSignal)) {
      if ('status' in r) expect(r.status).toBe(200);
      else expect(r.error).toMatch(/ECONNREFUSED|ECONNRESET|socket hang up|EPIPE/);
    }
    const { rows } = await pg.pool.query("SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1 AND application_name = 'api'", [pg.database]);
    expect(rows[0].n).toBe(0);
    expect(app.output()).toContain('"stopped"');
    for (const secret of Object.values(TEST_SECRETS)) expect(app.output()).not.toContain(secret);
  }, 60_000);
});
