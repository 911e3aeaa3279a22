import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasSharedRedis, sharedRedisUrl, startServerProcess, type ServerProcess } from '@org/test-services';

// Starts the example the way its header says (`pnpm start`'s command), with Redis when the machine has one.
const withRedis = await hasSharedRedis();
let server: ServerProcess;

beforeAll(async () => {
  server = await startServerProcess(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    cwd: join(import.meta.dirname, '..'),
    env: withRedis
      ? { REDIS_URL: sharedRedisUrl, CACHE_PREFIX: `example-${randomBytes(4).toString('hex')}` }
      : { REDIS_URL: '' },
    readyPath: '/stats',
  });
});

afterAll(async () => {
  expect(await server?.stop()).toBe(0);
});

const get = async (path: string, init?: RequestInit) => {
  const response = await fetch(server.url + path, init);
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
};

describe('cache-express example', () => {
  it('computes a user once, then serves it from the cache', async () => {
    const first = await get('/users/1');
    const second = await get('/users/1');
    expect(first).toEqual({ status: 200, body: { id: '1', name: 'Ada', team: 'core' } });
    expect(second).toEqual(first);
    const stats = await get('/stats');
    expect(stats.body).toMatchObject({ factoryCalls: 1, lookups: 1, redis: withRedis ? 'up' : 'none' });
  });

  it('answers 404 for an unknown user without caching the miss', async () => {
    expect((await get('/users/404')).status).toBe(404);
    expect((await get('/users/404')).status).toBe(404);
    expect((await get('/stats')).body.lookups).toBe(3);
  });

  it('invalidates by the tag the factory set', async () => {
    await get('/users/2');
    expect((await get('/teams/core/invalidate', { method: 'POST' })).body).toEqual({ deleted: 2 });
    // Both users of the team are looked up again.
    await get('/users/1');
    await get('/users/2');
    expect((await get('/stats')).body.lookups).toBe(6);
  });
});
