import { createServer, type Server, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { Redis } from 'ioredis';
import { createClient } from 'redis';
import { afterEach, describe, expect, it } from 'vitest';
import { canStartRedis, freePort, startRedis, waitFor, type PrivateRedis } from '@org/test-services';
import { createLimiter, defaultTiers, defineTiers, type Limiter, type StoreStateEvent } from '../src/index.js';
import { bindings } from './bindings.js';

// Fault tests on private redis-servers: each test kills, pauses or withholds its own server. The
// caller's ioredis client keeps its defaults (offline queue, 20 retries): the package owns the deadline.

const canRun = canStartRedis();

type ClientKind = 'ioredis' | 'node-redis';

interface Harness {
  limiter: Limiter;
  logs: string[];
  events: StoreStateEvent[];
}

const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** The caller's client, never connected by the caller: ioredis with its defaults, or node-redis with its defaults. */
function callerClient(
  kind: ClientKind,
  port: number,
): { client: Redis | ReturnType<typeof createClient>; close: () => void } {
  if (kind === 'node-redis') {
    const client = createClient({ socket: { host: '127.0.0.1', port } });
    client.on('error', () => {});
    return { client, close: () => client.isOpen && client.destroy() };
  }
  const client = new Redis({ host: '127.0.0.1', port, lazyConnect: true });
  client.on('error', () => {});
  return { client, close: () => client.disconnect() };
}

function harness(
  port: number,
  options: { fallbackShare?: number; timeoutMs?: number } = {},
  kind: ClientKind = 'ioredis',
): Harness {
  const { client, close } = callerClient(kind, port);
  const logs: string[] = [];
  const events: StoreStateEvent[] = [];
  const limiter = createLimiter({
    tiers: defaultTiers(),
    redis: client,
    prefix: 'fault:',
    logger: { warn: (m) => logs.push(`warn ${m}`), info: (m) => logs.push(`info ${m}`) },
    onStateChange: (e) => events.push(e),
    ...options,
  });
  cleanups.push(close, () => limiter.close());
  return { limiter, logs, events };
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const started = performance.now();
  const value = await fn();
  return [value, performance.now() - started];
}

async function untilSource(limiter: Limiter, source: string, key = 'probe'): Promise<number> {
  const started = performance.now();
  await waitFor(
    `decisions from ${source}`,
    async () => (await limiter.check({ key, tier: 'enterprise' })).source === source,
    10_000,
    20,
  );
  return performance.now() - started;
}

describe.skipIf(!canRun).each(['ioredis', 'node-redis'] as const)(
  'Redis failures (private redis-server), caller client %s',
  (kind) => {
    let redis: PrivateRedis;
    afterEach(async () => {
      await redis?.stop();
    });

    it('SIGKILL: every decision stays fast, general falls back to memory, analysis fails closed, one log line per state change, back on Redis after restart', async () => {
      redis = await startRedis();
      const h = harness(redis.port, {}, kind);
      await untilSource(h.limiter, 'redis', 'u');
      h.events.length = 0;
      h.logs.length = 0;
      await redis.kill();
      expect(await redis.ping(200)).toBe(false);

      const durations: number[] = [];
      for (let i = 0; i < 60; i++) {
        const [general, ms] = await timed(() => h.limiter.check({ key: 'u' }));
        durations.push(ms);
        expect(general.source).toBe('fallback');
        const [analysis, ms2] = await timed(() => h.limiter.check({ key: 'u', policies: ['general', 'analysis'] }));
        durations.push(ms2);
        expect(analysis.outcome).toBe('store-unavailable');
        expect(analysis.allowed).toBe(false);
      }
      // Generous for a loaded 2-core machine; the benchmark (Redis down) measures the real figure.
      expect(Math.max(...durations)).toBeLessThan(250);
      // The fallback enforces the general limit (20) locally: 60 attempts, 20 admitted.
      expect((await h.limiter.check({ key: 'u' })).outcome).toBe('limited');
      expect(h.logs.filter((l) => l.startsWith('warn'))).toHaveLength(1);

      await redis.restart();
      const recovery = await untilSource(h.limiter, 'redis');
      expect(recovery).toBeLessThan(3_000);
      expect(h.logs).toHaveLength(2);
      expect(h.events.map((e) => e.state)).toEqual(['unavailable', 'available']);
      expect((await h.limiter.check({ key: 'u', policies: ['general', 'analysis'] })).source).toBe('redis');
    });

    it('CLIENT PAUSE (server alive, answers nobody): decisions return within the deadline, then Redis is used again', async () => {
      redis = await startRedis();
      const h = harness(redis.port, {}, kind);
      await untilSource(h.limiter, 'redis', 'u');
      h.events.length = 0;
      await redis.pause(1_500);
      expect(await redis.ping(200)).toBe(false);
      const durations: number[] = [];
      for (let i = 0; i < 20; i++) {
        const [d, ms] = await timed(() => h.limiter.check({ key: 'u' }));
        durations.push(ms);
        expect(['fallback']).toContain(d.source);
      }
      expect(Math.max(...durations)).toBeLessThan(250);
      // Only the first decision waited for the 30 ms deadline; the rest were answered from memory at once
      // (the median, not each one, so that a scheduling stall on a loaded machine does not decide the test).
      expect(median(durations.slice(1))).toBeLessThan(5);
      await untilSource(h.limiter, 'redis');
      expect(h.events.map((e) => e.state)).toEqual(['unavailable', 'available']);
    });

    it('Redis absent at boot, started later: decisions never hang, then move to Redis once it listens', async () => {
      const port = await freePort();
      const h = harness(port, {}, kind);
      const durations: number[] = [];
      for (let i = 0; i < 20; i++) {
        const [d, ms] = await timed(() => h.limiter.check({ key: 'u' }));
        durations.push(ms);
        expect(d.source).toBe('fallback');
      }
      expect(Math.max(...durations)).toBeLessThan(250);
      redis = await startRedis({ port });
      const recovery = await untilSource(h.limiter, 'redis');
      expect(recovery).toBeLessThan(3_000);
    });

    it('a black-holed host (a TCP peer that accepts and never answers; no iptables here): the first decision and every later one are bounded', async () => {
      const sockets: Socket[] = [];
      const hole: Server = createServer((s) => {
        sockets.push(s);
      });
      await new Promise<void>((r) => hole.listen(0, '127.0.0.1', r));
      cleanups.push(
        () =>
          new Promise((r) => {
            for (const s of sockets) s.destroy();
            hole.close(r);
          }),
      );
      const port = (hole.address() as { port: number }).port;
      const h = harness(port, {}, kind);
      const durations: number[] = [];
      for (let i = 0; i < 20; i++) {
        const [d, ms] = await timed(() => h.limiter.check({ key: 'u' }));
        durations.push(ms);
        expect(d.source).toBe('fallback');
      }
      expect(sockets.length).toBeGreaterThan(0);
      expect(Math.max(...durations)).toBeLessThan(250);
      expect(median(durations.slice(1))).toBeLessThan(5);
    });

    it('NOSCRIPT after SCRIPT FLUSH: the script is loaded again and the decision still comes from Redis', async () => {
      redis = await startRedis();
      // Not a deadline test: a generous timeout keeps a loaded machine from tripping the fallback.
      const h = harness(redis.port, { timeoutMs: 2_000 }, kind);
      const admin = new Redis({ host: '127.0.0.1', port: redis.port });
      admin.on('error', () => {});
      cleanups.push(() => admin.disconnect());
      const first = await h.limiter.check({ key: 'n' });
      expect(first.source).toBe('redis');
      expect(first.policies[0]!.remaining).toBe(19);
      await admin.script('FLUSH');
      const [exists] = (await admin.script('EXISTS', (await import('../src/lua.js')).DECIDE_SHA)) as number[];
      expect(exists).toBe(0);
      const d = await h.limiter.check({ key: 'n' });
      expect(d.source).toBe('redis');
      expect(d.policies[0]!.remaining).toBe(18);
      expect(h.events).toEqual([]);
    });

    it('get / refund / reset: NOSCRIPT reloads their scripts; with Redis killed, get and refund use the outage counters and reset or a Redis refund reject with StoreUnavailableError, bounded', async () => {
      redis = await startRedis();
      const h = harness(redis.port, { timeoutMs: 2_000 });
      const admin = new Redis({ host: '127.0.0.1', port: redis.port });
      admin.on('error', () => {});
      cleanups.push(() => admin.disconnect());
      const taken = await h.limiter.check({ key: 's', cost: 3 });
      expect(taken.source).toBe('redis');
      await admin.script('FLUSH');
      expect((await h.limiter.get({ key: 's', policies: ['general'] })).policies[0]!.remaining).toBe(17);
      await h.limiter.refund({ key: 's', cost: 3, at: taken.nowMs, source: taken.source });
      expect((await h.limiter.get({ key: 's', policies: ['general'] })).policies[0]).toMatchObject({ remaining: 20 });
      await h.limiter.check({ key: 's' });
      await h.limiter.reset('s');
      expect(await admin.exists('fault:{s}')).toBe(0);

      await redis.kill();
      expect(await redis.ping(200)).toBe(false);
      await untilSource(h.limiter, 'fallback', 's');
      const fb = await h.limiter.check({ key: 'f' });
      expect(fb.source).toBe('fallback');
      const state = await h.limiter.get({ key: 'f', policies: ['general'] });
      expect(state.source).toBe('fallback');
      expect(state.policies[0]!.remaining).toBe(19);
      await h.limiter.refund({ key: 'f', at: fb.nowMs, source: fb.source });
      expect((await h.limiter.get({ key: 'f', policies: ['general'] })).policies[0]!.remaining).toBe(20);
      const [resetError, resetMs] = await timed(() =>
        h.limiter.reset('f').then(
          () => undefined,
          (e: unknown) => e,
        ),
      );
      expect(resetError).toMatchObject({ code: 'RATE_LIMIT_STORE_UNAVAILABLE' });
      const [refundError, refundMs] = await timed(() =>
        h.limiter.refund({ key: 'f', source: 'redis' }).then(
          () => undefined,
          (e: unknown) => e,
        ),
      );
      expect(refundError).toMatchObject({ code: 'RATE_LIMIT_STORE_UNAVAILABLE' });
      // A dead connection is known at once: nothing waits for the (here 2 s) deadline.
      expect(Math.max(resetMs, refundMs)).toBeLessThan(1_000);
    });

    it("the caller's client is left untouched and open; close() ends only the limiter's own connection", async () => {
      redis = await startRedis();
      if (kind === 'node-redis') {
        const client = createClient({ socket: { host: '127.0.0.1', port: redis.port } });
        client.on('error', () => {});
        await client.connect();
        cleanups.push(() => client.isOpen && client.destroy());
        const limiter = createLimiter({ tiers: defaultTiers(), redis: client, timeoutMs: 2_000 });
        expect((await limiter.check({ key: 'c' })).source).toBe('redis');
        const clients = async () => Number(/connected_clients:(\d+)/.exec(await client.info('clients'))![1]);
        const before = await clients();
        await limiter.close();
        await waitFor('the dedicated connection to close', async () => (await clients()) === before - 1, 5_000);
        expect(client.isReady).toBe(true);
        expect(await client.ping()).toBe('PONG');
        return;
      }
      const client = new Redis({ host: '127.0.0.1', port: redis.port });
      client.on('error', () => {});
      cleanups.push(() => client.disconnect());
      // Not a deadline test: a generous timeout keeps a loaded machine from tripping the fallback.
      const limiter = createLimiter({ tiers: defaultTiers(), redis: client, timeoutMs: 2_000 });
      expect((await limiter.check({ key: 'c' })).source).toBe('redis');
      const before = Number(/connected_clients:(\d+)/.exec(await client.info('clients'))![1]);
      await limiter.close();
      await waitFor(
        'the dedicated connection to close',
        async () => Number(/connected_clients:(\d+)/.exec(await client.info('clients'))![1]) === before - 1,
        5_000,
      );
      expect(await client.ping()).toBe('PONG');
      expect(client.options.enableOfflineQueue).toBe(true);
    });
  },
);

describe.skipIf(!canRun).each(bindings)(
  'failure modes per policy over HTTP on $name, Redis unreachable (closed port)',
  (binding) => {
    it("'open' admits, 'fallback' limits from memory, 'closed' answers 503 with Retry-After", async () => {
      const port = await freePort();
      const client = new Redis({ host: '127.0.0.1', port, lazyConnect: true });
      client.on('error', () => {});
      const tiers = defineTiers({
        free: {
          policies: {
            general: { limit: 3, window: 60 },
            analysis: { limit: 10, window: 3600, onStoreUnavailable: 'closed' },
            search: { limit: 1, window: 60, onStoreUnavailable: 'open' },
          },
        },
      });
      const warnings: string[] = [];
      const server = await binding.start({
        tiers,
        redis: client,
        logger: { warn: (m) => warnings.push(m) },
        policies: (req) =>
          req.method === 'POST' ? ['general', 'analysis'] : req.path === '/search' ? ['search'] : ['general'],
      });
      cleanups.push(
        () => client.disconnect(),
        () => server.close(),
      );

      const search = await Promise.all(
        Array.from({ length: 5 }, () => fetch(`${server.url}/search`).then((r) => r.status)),
      );
      expect(search).toEqual([200, 200, 200, 200, 200]);
      // The fault happened: the limiter has given up on Redis.
      expect(server.limiter.storeAvailable).toBe(false);
      const general: number[] = [];
      for (let i = 0; i < 5; i++) general.push((await fetch(`${server.url}/api/workflows`)).status);
      expect(general).toEqual([200, 200, 200, 429, 429]);
      const closed = await fetch(`${server.url}/api/analyze`, { method: 'POST' });
      expect(closed.status).toBe(503);
      expect(Number(closed.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(closed.headers.get('content-type')).toBe('application/json; charset=utf-8');
      expect(await closed.json()).toMatchObject({
        success: false,
        error: { code: 'RATE_LIMIT_UNAVAILABLE', currentTier: 'free' },
      });
      expect(warnings).toHaveLength(1);
    });
  },
);

describe.skipIf(!canRun)('outage decisions, Redis unreachable (closed port)', () => {
  it("outage decisions: all-'open' states are frozen (shared by decisions), only 'fallback' policies are decided from memory, with the request's cost", async () => {
    const port = await freePort();
    const client = new Redis({ host: '127.0.0.1', port, lazyConnect: true });
    client.on('error', () => {});
    const tiers = defineTiers({
      free: {
        policies: {
          general: { limit: 10, window: 60 },
          search: { limit: 1, window: 60, onStoreUnavailable: 'open' },
          export: { limit: 5, window: 3600, onStoreUnavailable: 'open' },
        },
      },
    });
    const limiter = createLimiter({ tiers, redis: client, fallbackShare: 0.5, logger: { warn: () => {} } });
    cleanups.push(
      () => client.disconnect(),
      () => limiter.close(),
    );

    const open1 = await limiter.check({ key: 'u', policies: ['search', 'export'] });
    expect(open1).toMatchObject({ allowed: true, outcome: 'allowed', source: 'none', key: 'u', violated: [] });
    expect(open1.policies.map((s) => [s.policy, s.limit, s.windowSec, s.remaining, s.resetMs, s.limited])).toEqual([
      ['search', 1, 60, 1, 60_000, false],
      ['export', 5, 3600, 5, 3_600_000, false],
    ]);
    expect(Object.isFrozen(open1.policies) && open1.policies.every((s) => Object.isFrozen(s))).toBe(true);
    const open2 = await limiter.check({ key: 'v', policies: ['search', 'export'] });
    expect(open2.key).toBe('v');
    expect(open2.policies).toEqual(open1.policies);

    // 'search' is open and not reported; 'general' is decided from memory with ceil(10 x 0.5) = 5.
    const a = await limiter.check({ key: 'u', policies: ['search', 'general'], cost: { general: 3 } });
    expect([a.source, a.outcome]).toEqual(['fallback', 'allowed']);
    expect(a.policies.map((s) => [s.policy, s.limit, s.remaining])).toEqual([['general', 5, 2]]);
    const b = await limiter.check({ key: 'u', policies: ['search', 'general'], cost: 3 });
    expect([b.source, b.outcome, b.policies[0]!.remaining]).toEqual(['fallback', 'limited', 2]);
    // Another plan over the same principal and policy shares the memory counter; without a cost, the policy's own.
    const c = await limiter.check({ key: 'u', policies: ['general'] });
    expect([c.source, c.outcome, c.policies[0]!.remaining]).toEqual(['fallback', 'allowed', 1]);
  });
});
