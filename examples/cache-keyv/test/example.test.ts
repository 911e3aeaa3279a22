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

const call = async (path: string, init?: RequestInit) => {
  const response = await fetch(server.url + path, init);
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
};

describe('cache-keyv example', () => {
  it('looks a user up once, then cache-manager serves it from @org/cache', async () => {
    const first = await call('/users/1');
    const before = (await call('/stats')).body;
    const second = await call('/users/1');
    expect(first).toEqual({ status: 200, body: { id: '1', name: 'Ada' } });
    expect(second).toEqual(first);
    const after = (await call('/stats')).body;
    expect(after).toMatchObject({ lookups: 1, redis: withRedis ? 'up' : 'none' });
    expect(after.hits as number).toBeGreaterThan(before.hits as number);
  });

  it('caches a miss briefly and looks the user up again after a delete', async () => {
    expect((await call('/users/404')).status).toBe(404);
    expect((await call('/users/404')).status).toBe(404);
    expect((await call('/stats')).body.lookups).toBe(2);
    expect((await call('/users/1/cache', { method: 'DELETE' })).body).toEqual({ deleted: true });
    expect((await call('/users/1')).body).toEqual({ id: '1', name: 'Ada' });
    expect((await call('/stats')).body.lookups).toBe(3);
  });
});
