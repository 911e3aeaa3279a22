import { Agent, request } from 'node:http';
import {
  canStartRedis,
  hasSharedPostgres,
  sharedPostgres,
  startRedis,
  type PrivateRedis,
  type SharedPostgres,
} from '@org/test-services';
import { Redis } from 'ioredis';
import { createApiKeyStore } from '../src/auth/api-keys.js';
import { createDatabase } from '../src/db/database.js';
import { createLogger } from '../src/observability/logger.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnApp, waitReady } from './support/child.js';
import { TEST_SECRETS, seedTenant } from './support/app.js';

const pgUp = await hasSharedPostgres();
const redisOk = await canStartRedis();

const SHUTDOWN_DELAY_MS = 300;
const DRAIN_TIMEOUT_MS = 3_000;

function get(
  url: string,
  agent: Agent,
  headers: Record<string, string> = {},
): Promise<{ status: number; connection: string | undefined }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent, headers }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode!, connection: res.headers.connection }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Clients connected to the private Redis, other than the one asking. */
async function redisClients(url: string): Promise<string[]> {
  const admin = new Redis(url, { maxRetriesPerRequest: 1 });
  try {
    const list = (await admin.call('CLIENT', 'LIST')) as string;
    const self = Number(await admin.call('CLIENT', 'ID'));
    return list.split('\n').filter((line) => line.trim() && !line.startsWith(`id=${self} `));
  } finally {
    admin.disconnect();
  }
}

describe.skipIf(!pgUp || !redisOk)(
  'graceful shutdown under keep-alive load (child process, shared PostgreSQL, private Redis)',
  () => {
    let pg: SharedPostgres;
    let redis: PrivateRedis;
    beforeAll(async () => {
      pg = await sharedPostgres('api_shutdown');
      redis = await startRedis();
    });
    afterAll(async () => {
      await redis?.stop();
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
        REDIS_URL: redis.url,
        // Redis answers late on a loaded machine: this test counts limits, it is not about the decision deadline.
        RATE_LIMIT_TIMEOUT_MS: '1000',
        HOST: '127.0.0.1',
        SHUTDOWN_DELAY_MS: String(SHUTDOWN_DELAY_MS),
        DRAIN_TIMEOUT_MS: String(DRAIN_TIMEOUT_MS),
      });
      await waitReady(app);
      // The load comes from an enterprise location's API key (500 requests/min): the free tier's 20/min per IP
      // would otherwise answer 429 halfway through.
      const seedDb = createDatabase({ url: pg.url, logger: createLogger({ level: 'silent' }) });
      const { accountId, locationId } = await seedTenant(seedDb, 'loc-shutdown');
      await seedDb.query(
        "INSERT INTO stripe_customers (location_id, customer_id, status, tier) VALUES ($1, 'cus_s', 'active', 'enterprise')",
        [locationId],
      );
      const { key } = await createApiKeyStore(seedDb, TEST_SECRETS.sessionSecret).create({
        accountId,
        locationId,
        name: 'load',
      });
      await seedDb.close();
      const auth = { authorization: `Bearer ${key}` };
      const agent = new Agent({ keepAlive: true, maxSockets: 8 });
      const beforeSignal: Promise<{ status: number }>[] = [];
      const afterSignal: Promise<{ status: number } | { error: string }>[] = [];
      let signalled = false;

      // Keep-alive load: 8 sockets each looping on the 1 s endpoint until the server stops taking requests.
      const loops = Array.from({ length: 8 }, async () => {
        for (;;) {
          const pending = get(`${app.base}/api/test/slow`, agent, auth);
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
      // The cache and the rate limiter hold connections to Redis while the app runs.
      expect((await redisClients(redis.url)).length).toBeGreaterThan(0);
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

      console.log(
        `shutdown: exit after ${Math.round(at - signalAt)} ms; ${inFlightAtSignal} requests before SIGTERM, ${afterSignal.length} after`,
      );
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
      const { rows } = await pg.pool.query(
        "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1 AND application_name = 'api'",
        [pg.database],
      );
      expect(rows[0].n).toBe(0);
      // ...and no client in Redis' CLIENT LIST: the cache and the rate limiter closed their connections.
      expect(await redis.ping()).toBe(true);
      expect(await redisClients(redis.url)).toEqual([]);
      expect(app.output()).toContain('"stopped"');
      for (const secret of Object.values(TEST_SECRETS)) expect(app.output()).not.toContain(secret);
    }, 60_000);
  },
);
