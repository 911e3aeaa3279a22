import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasSharedRedis, listen, sharedRedis, waitFor, type SharedRedis } from '@org/test-services';
import { defineTiers, InvalidOptionsError, tieredRateLimit, type RateLimitOptions } from '../src/index.js';

// skipSuccessfulRequests / skipFailedRequests over HTTP, with the shared Redis: the refund runs after the response.

const redisUp = await hasSharedRedis();
const tiers = defineTiers({
  free: { policies: { login: { limit: 3, window: '1m' } } },
  pro: { policies: { login: { limit: 30, window: '1m' } } },
});

describe.skipIf(!redisUp)('refunds after the response (Express, shared Redis)', () => {
  let shared: SharedRedis;
  let n = 0;
  const opened: { close: () => Promise<void> }[] = [];

  beforeAll(async () => {
    shared = await sharedRedis('rl-refund');
  });
  afterAll(async () => {
    for (const o of opened) await o.close();
    await shared.cleanup();
  });

  async function start(options: Partial<RateLimitOptions>) {
    const mw = tieredRateLimit({
      tiers,
      redis: shared.client,
      prefix: `${shared.prefix}${n++}:`,
      timeoutMs: 2_000,
      ...options,
    });
    const app = express();
    app.use(mw);
    // A login: the password decides the status.
    app.post('/login', (req, res) => {
      const ok = req.query.password === 'right';
      res.status(ok ? 200 : 401).json({ ok });
    });
    app.get('/boom', () => {
      throw new Error('boom');
    });
    app.get('/slow', (_req, res) => {
      res.write('partial');
      // Never ends: the client goes away first.
    });
    const server = await listen(app);
    opened.push(server, mw);
    const remaining = async () =>
      (await mw.limiter.get({ key: mw.limiterKey({ ip: '127.0.0.1' }) })).policies[0]!.remaining;
    return { url: server.url, mw, remaining };
  }

  const post = async (url: string) => {
    const res = await fetch(url, { method: 'POST' });
    await res.arrayBuffer();
    return res.status;
  };

  it('skipSuccessfulRequests: successful logins do not count, failed ones do, and the 4th failure is rejected', async () => {
    const { url, remaining } = await start({ skipSuccessfulRequests: true });
    for (let i = 0; i < 10; i++) {
      expect(await post(`${url}/login?password=right`)).toBe(200);
      await waitFor('the refund', async () => (await remaining()) === 3, 5_000, 5);
    }
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push(await post(`${url}/login?password=wrong`));
    expect(statuses).toEqual([401, 401, 401, 429]);
    // Rejected requests took nothing, so there is nothing to give back; still limited.
    expect(await post(`${url}/login?password=right`)).toBe(429);
    expect(await remaining()).toBe(0);
  });

  it('skipFailedRequests: 4xx, 5xx and abandoned responses do not count; successes do', async () => {
    const { url, remaining } = await start({ skipFailedRequests: true });
    for (let i = 0; i < 5; i++) {
      expect(await post(`${url}/login?password=wrong`)).toBe(401);
      await waitFor('the refund', async () => (await remaining()) === 3, 5_000, 5);
    }
    const boom = await fetch(`${url}/boom`);
    expect(boom.status).toBe(500);
    await boom.arrayBuffer();
    await waitFor('the refund', async () => (await remaining()) === 3, 5_000, 5);
    // The client reads the head of a response that never ends, then goes away.
    const controller = new AbortController();
    const slow = await fetch(`${url}/slow`, { signal: controller.signal });
    expect(slow.status).toBe(200);
    expect(await remaining()).toBe(2);
    controller.abort();
    await waitFor('the refund of the abandoned response', async () => (await remaining()) === 3, 5_000, 5);
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push(await post(`${url}/login?password=right`));
    expect(statuses).toEqual([200, 200, 200, 429]);
  });

  it('requestWasSuccessful defines success: here only 5xx are failures, so 401s count', async () => {
    const { url, remaining } = await start({
      skipFailedRequests: true,
      requestWasSuccessful: (_req, res) => res.statusCode < 500,
    });
    expect(await post(`${url}/login?password=wrong`)).toBe(401);
    const boom = await fetch(`${url}/boom`);
    await boom.arrayBuffer();
    await waitFor('the refund', async () => (await remaining()) === 2, 5_000, 5);
  });

  it('an async requestWasSuccessful, and one that throws, are both honoured without failing the request', async () => {
    const a = await start({ skipSuccessfulRequests: true, requestWasSuccessful: async () => true });
    expect(await post(`${a.url}/login?password=wrong`)).toBe(401);
    await waitFor('the refund', async () => (await a.remaining()) === 3, 5_000, 5);
    const b = await start({
      skipFailedRequests: true,
      requestWasSuccessful: () => {
        throw new Error('judge failed');
      },
    });
    expect(await post(`${b.url}/login?password=right`)).toBe(200);
    // A judge that throws means failed: refunded under skipFailedRequests.
    await waitFor('the refund', async () => (await b.remaining()) === 3, 5_000, 5);
  });

  it('no prompt to upgrade unless upgradeUrl is given', async () => {
    const plain = await start({});
    for (let i = 0; i < 3; i++) await post(`${plain.url}/login`);
    const res = await fetch(`${plain.url}/login`, { method: 'POST' });
    const body = (await res.json()) as { error: Record<string, unknown> };
    expect(res.status).toBe(429);
    expect(body.error.upgradeUrl).toBeUndefined();
    expect(body.error.message).toBe('Free tier rate limit exceeded.');
    expect(body.error.limits).toEqual({ current: 3 });
    const prompting = await start({ upgradeUrl: '/billing/upgrade' });
    for (let i = 0; i < 3; i++) await post(`${prompting.url}/login`);
    const up = (await (await fetch(`${prompting.url}/login`, { method: 'POST' })).json()) as {
      error: Record<string, unknown>;
    };
    expect(up.error).toMatchObject({ upgradeUrl: '/billing/upgrade', limits: { current: 3, pro: 30 } });
  });

  it('validates the options at construction', () => {
    expect(() => tieredRateLimit({ tiers, skipSuccessfulRequests: 'yes' as never })).toThrow(
      expect.objectContaining({ code: 'RATE_LIMIT_INVALID_OPTIONS', path: 'skipSuccessfulRequests' }),
    );
    expect(() => tieredRateLimit({ tiers, skipFailedRequests: 1 as never })).toThrow(
      expect.objectContaining({ path: 'skipFailedRequests' }),
    );
    expect(() => tieredRateLimit({ tiers, requestWasSuccessful: true as never })).toThrow(InvalidOptionsError);
    const mw = tieredRateLimit({ tiers });
    expect(mw.limiterKey('acct_1')).toBe('p:acct_1');
    expect(mw.limiterKey({ ip: '2001:db8:1:2:3::9' })).toBe('ip:2001:db8:1:0:0:0:0:0/56');
    expect(() => mw.limiterKey('')).toThrow(InvalidOptionsError);
    void mw.close();
  });
});
