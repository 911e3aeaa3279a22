import express from 'express';
import Fastify from 'fastify';
import { Hono } from 'hono';
import { parseList } from 'structured-headers';
import { Registry } from 'prom-client';
import { createClient } from 'redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasSharedRedis, sharedRedis, waitFor, type SharedRedis } from '@org/test-services';
import {
  defaultTiers,
  defineTiers,
  rateLimitBodySchemas,
  tieredRateLimit,
  UnsafeTrustProxyError,
  type RateLimitExceededBody,
} from '../src/index.js';
import { tieredRateLimit as fastifyRateLimit } from '../src/fastify/index.js';
import { tieredRateLimit as honoRateLimit } from '../src/hono/index.js';
import { bindings, isAnalysis, type ContractOptions } from './bindings.js';
import { listen, referenceApp } from './helpers.js';

const redisUp = await hasSharedRedis();

// One contract, every framework binding: the same requests get the same statuses, headers and bodies. The Redis client
// sits below the framework, so node-redis runs once, on the Express 5 binding.
const cases = [
  ...bindings.map((binding) => ({ binding, client: 'ioredis' as const })),
  { binding: bindings[0]!, client: 'node-redis' as const },
];
describe.skipIf(!redisUp).each(cases)(
  'tieredRateLimit contract on $binding.name with the shared Redis ($client client)',
  ({ binding, client }) => {
    let shared: SharedRedis;
    let nodeClient: ReturnType<typeof createClient> | undefined;
    let n = 0;
    const opened: { close: () => Promise<void> }[] = [];

    beforeAll(async () => {
      shared = await sharedRedis(`rl-http-${client}`);
      if (client === 'node-redis') {
        nodeClient = createClient({ url: shared.url });
        nodeClient.on('error', () => {});
        await nodeClient.connect();
      }
    });
    afterAll(async () => {
      for (const o of opened) await o.close();
      await nodeClient?.close();
      await shared.cleanup();
    });

    async function start(options: Partial<ContractOptions> = {}) {
      const started = await binding.start({
        tiers: defaultTiers(),
        redis: nodeClient ?? shared.client,
        prefix: `${shared.prefix}${binding.name}:${n++}:`,
        // Not a deadline test (see redis.fault.test.ts): a loaded CI machine must not trip the fallback here.
        timeoutMs: 2_000,
        policies: (req) => (isAnalysis(req) ? ['general', 'analysis'] : ['general']),
        // As the reference API passes it (the prompt is off unless a URL is given).
        upgradeUrl: '/api/subscription/checkout',
        ...options,
      });
      opened.push(started);
      return { url: started.url, limiter: { limiter: started.limiter } };
    }

    it('the documented check: 25 anonymous GET /api/workflows, requests 21-25 get 429 with the documented body', async () => {
      const { url } = await start();
      const statuses: number[] = [];
      let last: Response | undefined;
      for (let i = 1; i <= 25; i++) {
        last = await fetch(`${url}/api/workflows`);
        statuses.push(last.status);
        if (i < 25) await last.arrayBuffer();
      }
      expect(statuses.slice(0, 20)).toEqual(Array(20).fill(200));
      expect(statuses.slice(20)).toEqual(Array(5).fill(429));
      const body = (await last!.json()) as { error: { retryAfter: number } };
      expect(body).toEqual({
        success: false,
        error: {
          message: 'Free tier rate limit exceeded. Upgrade to Pro for higher limits.',
          code: 'RATE_LIMIT_EXCEEDED',
          retryAfter: body.error.retryAfter,
          currentTier: 'free',
          upgradeUrl: '/api/subscription/checkout',
          limits: { current: 20, pro: 100 },
        },
      });
      expect(body.error.retryAfter).toBeGreaterThanOrEqual(55);
      expect(body.error.retryAfter).toBeLessThanOrEqual(60);
      expect(last!.headers.get('retry-after')).toBe(String(body.error.retryAfter));
      expect(last!.headers.get('x-ratelimit-tier')).toBe('free');
      expect(last!.headers.get('x-ratelimit-limit')).toBe('20');
      expect(last!.headers.get('x-ratelimit-window')).toBe('60');
      expect(last!.headers.get('x-ratelimit-remaining')).toBe('0');
    });

    it('handler: the app answers the 429 from the decision and the default body, the rate-limit headers already set', async () => {
      const seen: string[] = [];
      const { url } = await start({
        handler: (req, { decision, status, body }) => {
          seen.push(`${req.method} ${req.path} ${decision.outcome} ${status}`);
          const error = (body as RateLimitExceededBody).error;
          return { status, body: { success: false, error: { ...error, requestId: req.header('x-request-id') } } };
        },
      });
      for (let i = 0; i < 20; i++) expect((await fetch(`${url}/api/workflows`)).status).toBe(200);
      const res = await fetch(`${url}/api/workflows`, { headers: { 'x-request-id': 'req-42' } });
      expect(res.status).toBe(429);
      const body = (await res.json()) as { error: Record<string, unknown> };
      expect(body).toEqual({
        success: false,
        error: {
          message: 'Free tier rate limit exceeded. Upgrade to Pro for higher limits.',
          code: 'RATE_LIMIT_EXCEEDED',
          retryAfter: body.error.retryAfter,
          currentTier: 'free',
          upgradeUrl: '/api/subscription/checkout',
          limits: { current: 20, pro: 100 },
          requestId: 'req-42',
        },
      });
      expect(res.headers.get('retry-after')).toBe(String(body.error.retryAfter));
      expect(res.headers.get('x-ratelimit-remaining')).toBe('0');
      expect(Number(res.headers.get('x-ratelimit-reset'))).toBeGreaterThan(Date.now() / 1000);
      expect(seen).toEqual(['GET /api/workflows limited 429']);
      // The default body matches the exported schema's required fields and codes.
      const schema = rateLimitBodySchemas[429] as { properties: { error: { required: string[] } } };
      for (const field of schema.properties.error.required) expect(body.error).toHaveProperty(field);
    });

    it('the documented check: 12 anonymous POST /api/analyze, requests 11 and 12 get 429', async () => {
      const { url } = await start();
      const statuses: number[] = [];
      let last: Response | undefined;
      for (let i = 1; i <= 12; i++) {
        last = await fetch(`${url}/api/analyze`, { method: 'POST' });
        statuses.push(last.status);
        if (i < 12) await last.arrayBuffer();
      }
      expect(statuses).toEqual([...Array(10).fill(200), 429, 429]);
      const body = (await last!.json()) as { error: Record<string, unknown> };
      expect(body.error).toMatchObject({
        currentTier: 'free',
        limits: { current: 10, pro: 100 },
        code: 'RATE_LIMIT_EXCEEDED',
      });
      expect(last!.headers.get('x-ratelimit-limit')).toBe('10');
      expect(last!.headers.get('x-ratelimit-window')).toBe('3600');
    });

    it('all-or-nothing: after the 10 free analyses, 50 more (all 429) leave the general counter unchanged', async () => {
      const { url } = await start();
      for (let i = 0; i < 10; i++) expect((await fetch(`${url}/api/analyze`, { method: 'POST' })).status).toBe(200);
      const general = async () => {
        const res = await fetch(`${url}/api/analyze`, { method: 'POST' });
        await res.arrayBuffer();
        const parsed = parseList(res.headers.get('ratelimit')!);
        return { status: res.status, r: parsed.find(([name]) => name === 'general')![1].get('r') };
      };
      const first = await general();
      expect(first).toEqual({ status: 429, r: 10 });
      for (let i = 0; i < 49; i++) expect(await general()).toEqual({ status: 429, r: 10 });
      const res = await fetch(`${url}/api/workflows`);
      expect(res.status).toBe(200);
      expect(res.headers.get('x-ratelimit-remaining')).toBe('9');
    });

    it('draft-11 RateLimit-Policy and RateLimit are valid Structured Fields lists naming every policy, consistent with X-RateLimit-* and Retry-After to the second', async () => {
      const { url } = await start();
      for (let i = 0; i < 10; i++) await (await fetch(`${url}/api/analyze`, { method: 'POST' })).arrayBuffer();
      for (const expected of [200, 429]) {
        const res = await (expected === 200
          ? fetch(`${url}/api/workflows`)
          : fetch(`${url}/api/analyze`, { method: 'POST' }));
        await res.arrayBuffer();
        expect(res.status).toBe(expected);
        const policy = parseList(res.headers.get('ratelimit-policy')!);
        const state = parseList(res.headers.get('ratelimit')!);
        const names = expected === 200 ? ['general'] : ['general', 'analysis'];
        expect(policy.map(([v]) => v)).toEqual(names);
        expect(state.map(([v]) => v)).toEqual(names);
        for (const [, params] of policy) {
          expect(Number.isInteger(params.get('q'))).toBe(true);
          expect(Number.isInteger(params.get('w'))).toBe(true);
        }
        for (const [, params] of state) {
          expect(Number.isInteger(params.get('r'))).toBe(true);
          expect(Number.isInteger(params.get('t'))).toBe(true);
        }
        // The policy the X-RateLimit-* headers describe, and its reset, agree with the structured fields.
        const limit = Number(res.headers.get('x-ratelimit-limit'));
        const idx = policy.findIndex(
          ([, p]) => p.get('q') === limit && p.get('w') === Number(res.headers.get('x-ratelimit-window')),
        );
        expect(idx).toBeGreaterThanOrEqual(0);
        const t = state[idx]![1].get('t') as number;
        expect(state[idx]![1].get('r')).toBe(Number(res.headers.get('x-ratelimit-remaining')));
        const reset = Number(res.headers.get('x-ratelimit-reset'));
        const nowSec = Math.floor(Date.now() / 1000);
        expect(Math.abs(reset - t - nowSec)).toBeLessThanOrEqual(1);
        if (expected === 429) {
          expect(res.headers.get('retry-after')).toBe(String(t));
          expect(policy[idx]![0]).toBe('analysis');
          expect(t).toBeGreaterThan(3500);
        }
      }
    });

    it('weights requests by cost: a request costing more than what is left is rejected and consumes nothing', async () => {
      const { url } = await start({ cost: (req) => ({ analysis: Number(req.header('x-cost') ?? 1) }) });
      const analyse = async (cost: number) => {
        const res = await fetch(`${url}/api/analyze`, { method: 'POST', headers: { 'x-cost': String(cost) } });
        await res.arrayBuffer();
        const state = parseList(res.headers.get('ratelimit')!);
        return [res.status, state.find(([name]) => name === 'analysis')![1].get('r')];
      };
      expect(await analyse(4)).toEqual([200, 6]);
      expect(await analyse(4)).toEqual([200, 2]);
      expect(await analyse(3)).toEqual([429, 2]);
      expect(await analyse(2)).toEqual([200, 0]);
      expect(await analyse(1)).toEqual([429, 0]);
    });

    it('a tier upgrade applies on the next request without resetting counters', async () => {
      const tiers = new Map<string, string>([['acct-1', 'free']]);
      const { url } = await start({
        key: (req) => req.header('x-account') ?? undefined,
        resolveTier: (req) => tiers.get(req.header('x-account') ?? ''),
      });
      const get = () => fetch(`${url}/api/workflows`, { headers: { 'x-account': 'acct-1' } });
      for (let i = 0; i < 20; i++) expect((await get()).status).toBe(200);
      expect((await get()).status).toBe(429);
      tiers.set('acct-1', 'pro');
      const upgraded = await get();
      expect(upgraded.status).toBe(200);
      expect(upgraded.headers.get('x-ratelimit-tier')).toBe('pro');
      expect(upgraded.headers.get('x-ratelimit-remaining')).toBe('79');
    });

    it('the highest tier gets no upgrade prompt; problem+json lists the violated policies', async () => {
      const tiers = defineTiers({
        basic: { policies: { general: { limit: 1, window: 60 } } },
        top: { policies: { general: { limit: 2, window: 60 } } },
      });
      const top = await start({ tiers, policies: ['general'], resolveTier: () => 'top' });
      for (let i = 0; i < 2; i++) await (await fetch(`${top.url}/x`)).arrayBuffer();
      const res = await fetch(`${top.url}/x`);
      expect(res.status).toBe(429);
      expect(await res.json()).toMatchObject({
        error: { message: 'Top tier rate limit exceeded.', limits: { current: 2 } },
      });
      const problem = await start({ tiers, policies: ['general'], format: 'problem+json' });
      await (await fetch(`${problem.url}/x`)).arrayBuffer();
      const p = await fetch(`${problem.url}/x`);
      expect(p.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(await p.json()).toMatchObject({
        type: 'https://iana.org/assignments/http-problem-types#quota-exceeded',
        status: 429,
        'violated-policies': ['general'],
        tier: 'basic',
        upgrade: { tier: 'top', limit: 2, url: '/api/subscription/checkout' },
      });
    });

    it('with X-RateLimit-* off, or every header off, a 429 still describes the violated policy and sends Retry-After', async () => {
      for (const headers of [{ legacy: false }, false] as const) {
        const { url } = await start({ headers });
        for (let i = 0; i < 10; i++) await (await fetch(`${url}/api/analyze`, { method: 'POST' })).arrayBuffer();
        const res = await fetch(`${url}/api/analyze`, { method: 'POST' });
        expect(res.status).toBe(429);
        expect(res.headers.get('x-ratelimit-limit')).toBeNull();
        expect(res.headers.get('ratelimit') === null).toBe(headers === false);
        const body = (await res.json()) as { error: { retryAfter: number; limits: Record<string, number> } };
        expect(body.error.limits).toEqual({ current: 10, pro: 100 });
        expect(res.headers.get('retry-after')).toBe(String(body.error.retryAfter));
        expect(body.error.retryAfter).toBeGreaterThan(3500);
      }
    });

    it('X-Forwarded-For spoofing with trust proxy off: rotating XFF yields 0 extra admissions', async () => {
      const { url } = await start();
      let admitted = 0;
      for (let i = 0; i < 40; i++) {
        const res = await fetch(`${url}/api/workflows`, { headers: { 'x-forwarded-for': `203.0.113.${i}` } });
        await res.arrayBuffer();
        if (res.status === 200) admitted++;
      }
      expect(admitted).toBe(20);
    });

    it('skip(req) and the allowlist bypass the limiter; principals are keyed apart from IPs', async () => {
      const { url } = await start({
        skip: (req) => req.path === '/health',
        allowlist: ['ops'],
        key: (req) => req.header('x-account') ?? undefined,
      });
      for (let i = 0; i < 30; i++) {
        const h = await fetch(`${url}/health`);
        expect(h.status).toBe(200);
        expect(h.headers.get('x-ratelimit-limit')).toBeNull();
        await h.arrayBuffer();
      }
      for (let i = 0; i < 30; i++)
        expect((await fetch(`${url}/api/workflows`, { headers: { 'x-account': 'ops' } })).status).toBe(200);
      for (let i = 0; i < 20; i++)
        expect((await fetch(`${url}/api/workflows`, { headers: { 'x-account': 'a' } })).status).toBe(200);
      expect((await fetch(`${url}/api/workflows`, { headers: { 'x-account': 'a' } })).status).toBe(429);
      // The anonymous IP has its own budget.
      expect((await fetch(`${url}/api/workflows`)).status).toBe(200);
    });

    it('skipSuccessfulRequests: successful logins are refunded after the response, failures count, the 4th failure is rejected', async () => {
      const loginTiers = defineTiers({ free: { policies: { login: { limit: 3, window: '1m' } } } });
      const { url, limiter } = await start({ tiers: loginTiers, policies: ['login'], skipSuccessfulRequests: true });
      const remaining = async () => (await limiter.limiter.get({ key: 'ip:127.0.0.1' })).policies[0]!.remaining;
      const post = async (password: string) => {
        const res = await fetch(`${url}/login?password=${password}`, { method: 'POST' });
        await res.arrayBuffer();
        return res.status;
      };
      for (let i = 0; i < 6; i++) {
        expect(await post('right')).toBe(200);
        await waitFor('the refund', async () => (await remaining()) === 3, 5_000, 5);
      }
      const statuses = [];
      for (let i = 0; i < 4; i++) statuses.push(await post('wrong'));
      expect(statuses).toEqual([401, 401, 401, 429]);
    });

    it('counts rejections in rate_limit_exceeded_total{tier,policy} on a passed prom-client Registry', async () => {
      const registry = new Registry();
      const { url } = await start({ registry });
      for (let i = 0; i < 12; i++) await (await fetch(`${url}/api/analyze`, { method: 'POST' })).arrayBuffer();
      for (let i = 0; i < 13; i++) await (await fetch(`${url}/api/workflows`)).arrayBuffer();
      const text = await registry.metrics();
      expect(text).toContain('rate_limit_exceeded_total{tier="free",policy="analysis"} 2');
      expect(text).toContain('rate_limit_exceeded_total{tier="free",policy="general"} 3');
    });

    it('answers keys already over the limit locally: a hammering client costs no Redis command per rejection', async () => {
      const { url, limiter } = await start();
      for (let i = 0; i < 21; i++) await (await fetch(`${url}/api/workflows`)).arrayBuffer();
      const sources = new Set<string>();
      for (let i = 0; i < 30; i++) {
        const d = await limiter.limiter.check({ key: 'ip:127.0.0.1', policies: ['general'] });
        expect(d.outcome).toBe('limited');
        sources.add(d.source);
      }
      expect([...sources]).toEqual(['local-block']);
    });

    it('the local block list answers only the rejected tier and policy list: a tier change (even to the same limit) and another list ask Redis', async () => {
      const same = { general: { limit: 2, window: 60 }, analysis: { limit: 5, window: 60 } };
      const { limiter } = await start({ tiers: defineTiers({ a: { policies: same }, b: { policies: same } }) });
      const check = async (tier: string, policies: string[]) => {
        const d = await limiter.limiter.check({ key: 'p:x', tier, policies });
        return [d.outcome, d.source, d.tier.name, d.policies.map((s) => s.policy).join('+')];
      };
      expect(await check('a', ['general'])).toEqual(['allowed', 'redis', 'a', 'general']);
      expect(await check('a', ['general'])).toEqual(['allowed', 'redis', 'a', 'general']);
      expect(await check('a', ['general'])).toEqual(['limited', 'redis', 'a', 'general']);
      expect(await check('a', ['general'])).toEqual(['limited', 'local-block', 'a', 'general']);
      // Tier b has the same limits: still its own decision (and its own headers), not tier a's remembered one.
      expect(await check('b', ['general'])).toEqual(['limited', 'redis', 'b', 'general']);
      expect(await check('b', ['general'])).toEqual(['limited', 'local-block', 'b', 'general']);
      expect(await check('b', ['general', 'analysis'])).toEqual(['limited', 'redis', 'b', 'general+analysis']);
      expect(await check('b', ['general', 'analysis'])).toEqual(['limited', 'local-block', 'b', 'general+analysis']);
    });

    it('the local block list cap (min(maxMemoryKeys, 10 000)) counts principals, not principals x policies', async () => {
      const tiers = defineTiers({
        t: { policies: { general: { limit: 1, window: 60 }, analysis: { limit: 1, window: 60 } } },
      });
      const { limiter } = await start({ tiers, maxMemoryKeys: 2 });
      const source = async (key: string) => {
        const d = await limiter.limiter.check({ key, policies: ['general', 'analysis'] });
        return `${d.outcome}/${d.source}`;
      };
      for (const key of ['p:a', 'p:b']) {
        expect(await source(key)).toBe('allowed/redis');
        // Both policies exhausted: remembered once for the principal.
        expect(await source(key)).toBe('limited/redis');
      }
      expect(await source('p:a')).toBe('limited/local-block');
      expect(await source('p:b')).toBe('limited/local-block');
      // A third principal evicts the oldest.
      expect(await source('p:c')).toBe('allowed/redis');
      expect(await source('p:c')).toBe('limited/redis');
      expect(await source('p:c')).toBe('limited/local-block');
      expect(await source('p:b')).toBe('limited/local-block');
      expect(await source('p:a')).toBe('limited/redis');
    });

    it("clock: 'local' decides in Redis with this process's clock (no TIME), as exactly as with Redis time", async () => {
      const { limiter } = await start({ clock: 'local' });
      const before = Date.now();
      const decisions = await Promise.all(
        Array.from({ length: 30 }, () => limiter.limiter.check({ key: 'local-clock' })),
      );
      const after = Date.now();
      expect(decisions.every((d) => d.source === 'redis' || d.source === 'local-block')).toBe(true);
      expect(decisions.filter((d) => d.allowed)).toHaveLength(20);
      const fromRedis = decisions.find((d) => d.source === 'redis')!;
      expect(fromRedis.nowMs).toBeGreaterThanOrEqual(before);
      expect(fromRedis.nowMs).toBeLessThanOrEqual(after);
      expect(() => tieredRateLimit({ tiers: defaultTiers(), clock: 'wall' as never })).toThrow(/clock/);
    });
  },
);

describe('handler option', () => {
  it('every binding refuses a handler that is not a function at construction, with RATE_LIMIT_INVALID_OPTIONS', () => {
    for (const make of [tieredRateLimit, fastifyRateLimit, honoRateLimit] as ((o: object) => unknown)[]) {
      expect(() => make({ tiers: defaultTiers(), handler: 'send 429' })).toThrow(
        expect.objectContaining({ code: 'RATE_LIMIT_INVALID_OPTIONS', message: expect.stringMatching(/handler/) }),
      );
    }
  });
});

describe('binding-specific client addresses', () => {
  it('Express: refuses trust proxy = true at construction when given the app, otherwise on the first request; a hop count keys by the forwarded address', async () => {
    const opened: { close: () => Promise<void> }[] = [];
    try {
      const app = express();
      app.set('trust proxy', true);
      expect(() => tieredRateLimit({ tiers: defaultTiers(), app })).toThrow(UnsafeTrustProxyError);
      const start = async (trust: boolean | number) => {
        const middleware = tieredRateLimit({ tiers: defaultTiers() });
        const a = referenceApp(middleware);
        a.set('trust proxy', trust);
        const server = await listen(a);
        opened.push(server, middleware);
        return server;
      };
      const unsafe = await start(true);
      const res = await fetch(`${unsafe.url}/api/workflows`);
      expect(res.status).toBe(500);
      expect(await res.json()).toMatchObject({ error: { code: 'RATE_LIMIT_UNSAFE_TRUST_PROXY' } });
      const hop = await start(1);
      let admitted = 0;
      for (let i = 0; i < 25; i++) {
        const res2 = await fetch(`${hop.url}/api/workflows`, {
          headers: { 'x-forwarded-for': i < 22 ? '198.51.100.7' : '198.51.100.8' },
        });
        await res2.arrayBuffer();
        if (res2.status === 200) admitted++;
      }
      expect(admitted).toBe(23);
    } finally {
      for (const o of opened) await o.close();
    }
  });

  it('Fastify: registering on an instance with trustProxy: true fails with RATE_LIMIT_UNSAFE_TRUST_PROXY; the proxy addresses are accepted', async () => {
    const unsafe = Fastify({ trustProxy: true });
    const plugin = fastifyRateLimit({ tiers: defaultTiers() });
    await expect(unsafe.register(plugin)).rejects.toMatchObject({ code: 'RATE_LIMIT_UNSAFE_TRUST_PROXY' });
    await plugin.close();
    const hop = Fastify({ trustProxy: '127.0.0.1' });
    const ok = fastifyRateLimit({ tiers: defaultTiers() });
    await hop.register(ok);
    hop.get('/x', async () => 'ok');
    const answers = [];
    for (let i = 0; i < 22; i++)
      answers.push(
        (await hop.inject({ url: '/x', headers: { 'x-forwarded-for': i < 21 ? '198.51.100.7' : '198.51.100.8' } }))
          .statusCode,
      );
    expect(answers).toEqual([...Array(20).fill(200), 429, 200]);
    await hop.close();
  });

  it('Hono: without @hono/node-server and without clientIp, an anonymous request fails with RATE_LIMIT_INVALID_OPTIONS instead of sharing one bucket', async () => {
    const app = new Hono();
    const middleware = honoRateLimit({ tiers: defaultTiers() });
    app.use(middleware);
    app.get('/x', (c) => c.text('ok'));
    app.onError((error, c) => c.json({ code: (error as { code?: string }).code }, 500));
    const res = await app.request('/x');
    expect(res.status).toBe(500);
    expect(await res.json()).toEqual({ code: 'RATE_LIMIT_INVALID_OPTIONS' });
    const withIp = honoRateLimit({ tiers: defaultTiers(), clientIp: (c) => c.req.header('x-real-ip') });
    const app2 = new Hono();
    app2.use(withIp);
    app2.get('/x', (c) => c.text('ok'));
    const statuses = [];
    for (let i = 0; i < 22; i++)
      statuses.push(
        (await app2.request('/x', { headers: { 'x-real-ip': i < 21 ? '198.51.100.7' : '198.51.100.8' } })).status,
      );
    expect(statuses).toEqual([...Array(20).fill(200), 429, 200]);
    await middleware.close();
    await withIp.close();
  });
});
