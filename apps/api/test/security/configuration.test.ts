// Configuration fails closed: built-in development defaults only for a development or test server on loopback with no
// live credential, secrets generated per data folder (never the repository's constants), demo login only with an
// explicit DEMO_MODE=true, https upstreams in production. src/main.ts in a child process, attacked over HTTP.
import { createHmac } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { spawnApp, waitReady, type AppProcess } from '../support/child.js';
import { TEST_SECRETS } from '../support/app.js';

/** The constants a repository checkout used to fall back to: public, so they must open nothing. */
const PUBLIC_INTERNAL_TOKEN = 'development-internal-token-not-for-production';
const PUBLIC_WEBHOOK_SECRET = 'whsec_development';

async function stop(app: AppProcess) {
  if (app.child.exitCode === null) app.child.kill('SIGTERM');
  return app.exited;
}

/** Starts src/main.ts with `env` and expects it to refuse: exit 1 with the reason on one line. */
async function refused(env: Record<string, string>): Promise<string> {
  const app = await spawnApp('src/main.ts', env);
  const { code } = await app.exited;
  expect(code, app.output()).toBe(1);
  return app.output();
}

function forgedStripeEvent(secret: string) {
  const t = Math.floor(Date.now() / 1000);
  const body = JSON.stringify({
    id: 'evt_forged',
    object: 'event',
    type: 'customer.created',
    created: t,
    data: { object: {} },
  });
  return { body, signature: `t=${t},v1=${createHmac('sha256', secret).update(`${t}.${body}`).digest('hex')}` };
}

describe('a server started with no environment at all (embedded PostgreSQL, loopback)', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'api-config-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('starts; its secrets are generated in the data folder, the public constants open nothing, demo login needs DEMO_MODE=true', async () => {
    const app = await spawnApp('src/main.ts', { DATA_DIR: dataDir });
    let secrets: Record<string, string>;
    try {
      await waitReady(app, 120_000);
      const file = join(dataDir, 'development-secrets.json');
      expect(statSync(file).mode & 0o777).toBe(0o600);
      secrets = JSON.parse(readFileSync(file, 'utf8')) as Record<string, string>;
      expect(secrets.INTERNAL_TOKEN).not.toBe(PUBLIC_INTERNAL_TOKEN);
      expect(secrets.ENCRYPTION_KEY).not.toMatch(/^0+$/);

      expect(
        (await fetch(`${app.base}/health/detailed`, { headers: { 'x-internal-token': PUBLIC_INTERNAL_TOKEN } })).status,
      ).toBe(404);
      expect(
        (await fetch(`${app.base}/health/detailed`, { headers: { 'x-internal-token': secrets.INTERNAL_TOKEN! } }))
          .status,
      ).toBe(200);
      const forged = forgedStripeEvent(PUBLIC_WEBHOOK_SECRET);
      expect(
        (
          await fetch(`${app.base}/webhooks/stripe`, {
            method: 'POST',
            headers: { 'stripe-signature': forged.signature },
            body: forged.body,
          })
        ).status,
      ).toBe(400);
      expect((await fetch(`${app.base}/auth/demo/login`, { method: 'POST' })).status).toBe(404);
    } finally {
      expect((await stop(app)).code, app.output()).toBe(0);
    }

    // The quick start (DEMO_MODE=true) on the same data folder: the same secrets, and the demo login works.
    const demo = await spawnApp('src/main.ts', { DATA_DIR: dataDir, DEMO_MODE: 'true' });
    try {
      await waitReady(demo, 120_000);
      expect(JSON.parse(readFileSync(join(dataDir, 'development-secrets.json'), 'utf8'))).toEqual(secrets);
      const login = await fetch(`${demo.base}/auth/demo/login`, { method: 'POST' });
      expect(login.status).toBe(200);
      const cookie = login.headers.getSetCookie()[0]!.split(';')[0]!;
      expect((await fetch(`${demo.base}/api/workflows`, { headers: { cookie } })).status).toBe(200);
    } finally {
      expect((await stop(demo)).code, demo.output()).toBe(0);
    }
  }, 300_000);
});

describe('refusals at start-up (exit 1, every reason named)', () => {
  it('a development server on a non-loopback address without its secrets', async () => {
    const out = await refused({ HOST: '0.0.0.0' });
    for (const name of ['SESSION_SECRET', 'INTERNAL_TOKEN', 'ENCRYPTION_KEY', 'STRIPE_WEBHOOK_SECRET'])
      expect(out).toContain(name);
    expect(out).toContain('HOST is 0.0.0.0');
  });

  it('a loopback development server holding a live Stripe key or a remote database, without its secrets', async () => {
    expect(await refused({ STRIPE_SECRET_KEY: 'sk_live_abc' })).toMatch(
      /STRIPE_SECRET_KEY \(a live key\).*SESSION_SECRET|SESSION_SECRET.*STRIPE_SECRET_KEY \(a live key\)/,
    );
    expect(await refused({ DATABASE_URL: 'postgres://api@db.example.com:5432/api' })).toContain(
      'DATABASE_URL (a database on another host)',
    );
  });

  it('demo mode anywhere but a loopback development or test server', async () => {
    expect(await refused({ DEMO_MODE: 'true', HOST: '0.0.0.0', SESSION_SECRET: TEST_SECRETS.sessionSecret })).toContain(
      'DEMO_MODE (needs a loopback HOST',
    );
    expect(await refused({ DEMO_MODE: 'true', NODE_ENV: 'production' })).toContain(
      'DEMO_MODE (refused when NODE_ENV=production)',
    );
  });

  it('plain-http upstreams in production', async () => {
    const out = await refused({
      NODE_ENV: 'production',
      DATABASE_URL: 'postgres://api@db.example.com:5432/api',
      FRONTEND_URL: 'https://app.example.test',
      GHL_CLIENT_ID: 'id',
      GHL_CLIENT_SECRET: TEST_SECRETS.ghlClientSecret,
      ENCRYPTION_KEY: TEST_SECRETS.encryptionKeyHex,
      SESSION_SECRET: TEST_SECRETS.sessionSecret,
      STRIPE_SECRET_KEY: TEST_SECRETS.stripeSecretKey,
      STRIPE_WEBHOOK_SECRET: TEST_SECRETS.stripeWebhookSecret,
      INTERNAL_TOKEN: TEST_SECRETS.internalToken,
      GHL_API_BASE_URL: 'http://ghl.example.test',
      STRIPE_API_BASE_URL: 'http://stripe.example.test',
    });
    expect(out).toContain('GHL_API_BASE_URL (must be an https URL when NODE_ENV=production)');
    expect(out).toContain('STRIPE_API_BASE_URL (must be an https URL when NODE_ENV=production)');
  });
});
