import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasSharedRedis, sharedRedisUrl, startServerProcess, type ServerProcess } from '@org/test-services';

// Starts the example the way its header says (`pnpm start`'s command), on Redis when the machine has one.
const withRedis = await hasSharedRedis();
let server: ServerProcess;

beforeAll(async () => {
  server = await startServerProcess(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    cwd: join(import.meta.dirname, '..'),
    env: withRedis
      ? { REDIS_URL: sharedRedisUrl, RATE_LIMIT_PREFIX: `example-rl-${randomBytes(4).toString('hex')}:` }
      : { REDIS_URL: '' },
    readyPath: '/health',
  });
});

afterAll(async () => {
  expect(await server?.stop()).toBe(0);
});

const call = (key: string) => fetch(`${server.url}/api/items`, { headers: { 'x-api-key-id': key } });

describe('tiered-rate-limit-fastify example', () => {
  it('admits a free key 3 times a minute, then answers 429 with Retry-After and a coded body', async () => {
    const statuses: number[] = [];
    let last!: Response;
    for (let i = 0; i < 4; i++) {
      last = await call('key-free');
      statuses.push(last.status);
      if (i < 3) expect(await last.json()).toEqual({ items: ['a', 'b'] });
    }
    expect(statuses).toEqual([200, 200, 200, 429]);
    expect(last.headers.get('x-ratelimit-tier')).toBe('free');
    expect(Number(last.headers.get('retry-after'))).toBeGreaterThan(0);
    const body = (await last.json()) as { success: boolean; error: { code: string; currentTier: string } };
    expect(body).toMatchObject({ success: false, error: { code: 'RATE_LIMIT_EXCEEDED', currentTier: 'free' } });
  });

  it('gives a pro key its own, higher limit', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 11; i++) {
      const response = await call('key-pro');
      await response.arrayBuffer();
      statuses.push(response.status);
    }
    expect(statuses.filter((s) => s === 200)).toHaveLength(10);
    expect(statuses.at(-1)).toBe(429);
  });

  it('never limits the health check', async () => {
    for (let i = 0; i < 5; i++) {
      const health = await fetch(`${server.url}/health`);
      expect(health.status).toBe(200);
      expect(health.headers.get('x-ratelimit-limit')).toBeNull();
    }
  });
});
