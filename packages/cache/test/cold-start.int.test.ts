import { fork } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { createClient } from 'redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasSharedRedis, sharedRedis, type SharedRedis } from '@org/test-services';
import { createCache } from '../src/index.js';
import { serializationTable } from './fixtures/values.js';

// A cache created a moment ago serves from Redis at once: its first calls wait for the first
// connection (within operationTimeoutMs) instead of missing. Proven with a fresh process that reads,
// on its very first calls, what another process wrote; with both client libraries.
const redisUp = await hasSharedRedis();
const reader = fileURLToPath(new URL('./fixtures/cold-reader.ts', import.meta.url));
// Generous: connecting from a process that is still loading its modules (through tsx, on a loaded
// machine) took up to ~100 ms here; this test is about reading Redis at all, not about the deadline.
const BOOT_DEADLINE_MS = 2_000;

function readInFreshProcess(
  env: Record<string, string>,
): Promise<{ results: Record<string, boolean>; firstMs: number; redisHits: number }> {
  return new Promise((resolve, reject) => {
    const child = fork(reader, [], {
      execArgv: ['--import', 'tsx'],
      env: { ...process.env, ...env },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    child.once('message', (m) => resolve(m as never));
    child.once('exit', (code) => code !== 0 && reject(new Error(`reader exited with ${code}`)));
  });
}

describe.skipIf(!redisUp)('cold start: a fresh instance reads Redis on its first call', () => {
  let redis: SharedRedis;
  let prefix: string;
  beforeAll(async () => {
    redis = await sharedRedis('cache-cold');
    prefix = `${redis.prefix}cold`;
    const writer = createCache({ redis: redis.url, prefix, operationTimeoutMs: BOOT_DEADLINE_MS });
    for (const [name, value] of Object.entries(serializationTable())) await writer.set(name, value, 600);
    expect(writer.stats().sets).toBe(Object.keys(serializationTable()).length);
    expect(writer.stats().redis).toBe('up');
    await writer.close();
  });
  afterAll(() => redis?.cleanup());

  for (const client of ['ioredis (URL)', 'node-redis'] as const) {
    it(`${client}: every type of the serialization table comes back identical from another process's write`, async () => {
      const { results, redisHits } = await readInFreshProcess({
        CACHE_REDIS_URL: redis.url,
        CACHE_PREFIX: prefix,
        CACHE_CLIENT: client === 'node-redis' ? 'node-redis' : 'ioredis',
        CACHE_TIMEOUT_MS: String(BOOT_DEADLINE_MS),
      });
      expect(results).toEqual(Object.fromEntries(Object.keys(serializationTable()).map((k) => [k, true])));
      expect(redisHits).toBe(Object.keys(serializationTable()).length);
    });
  }

  it('set on a cold instance reaches Redis (not only its memory), get on another cold instance sees it', async () => {
    const a = createCache({ redis: redis.url, prefix, operationTimeoutMs: BOOT_DEADLINE_MS });
    await a.set('written-cold', { at: 1 }, 600);
    const nodeClient = createClient({ url: redis.url });
    void nodeClient.connect();
    const b = createCache({ redis: nodeClient, prefix, operationTimeoutMs: BOOT_DEADLINE_MS });
    expect(await b.get('written-cold')).toEqual({ at: 1 });
    expect(b.stats().hits.redis).toBe(1);
    await Promise.all([a.close(), b.close()]);
    await nodeClient.close();
  });

  it('an absent Redis still answers from memory within the deadline on the first call', async () => {
    const cache = createCache({ redis: 'redis://127.0.0.1:1', prefix });
    const started = performance.now();
    expect(await cache.get('anything')).toBeUndefined();
    await cache.set('k', 1);
    expect(await cache.get('k')).toBe(1);
    // The default deadline is 50 ms; a refused connection is known at once. Slack for a loaded machine.
    expect(performance.now() - started).toBeLessThan(50 + 250);
    expect(cache.stats().redis).toBe('down');
    await cache.close();
  });
});
