import { execFileSync } from 'node:child_process';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasSharedRedis, sharedRedis, type SharedRedis } from '@org/test-services';
import { createCache, type Cache, type CacheLogger } from '../src/index.js';
import { parseRedisVersion } from '../src/redis-version.js';

// The version check at connect, and the tag-TTL fallback for servers without PEXPIRE NX/GT (Redis < 7). Only one
// redis-server version is installed here, so the older server is simulated by rewriting `redis_version` in the real
// INFO reply the cache receives; every command then runs on the real server.
const redisUp = await hasSharedRedis();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Logged {
  level: string;
  fields: Record<string, unknown>;
  message: string;
}

function recordingLogger(): CacheLogger & { lines: Logged[] } {
  const lines: Logged[] = [];
  const at = (level: string) => (fields: Record<string, unknown>, message: string) =>
    void lines.push({ level, fields, message });
  return { lines, error: at('error'), warn: at('warn'), info: at('info'), debug: at('debug') };
}

describe.skipIf(!redisUp)('Redis version detection', () => {
  let redis: SharedRedis;
  const caches: Cache[] = [];
  beforeAll(async () => {
    redis = await sharedRedis('cache-version');
  });
  afterAll(async () => {
    await Promise.all(caches.map((c) => c.close()));
    await redis?.cleanup();
  });

  it('reads the version from a real INFO reply, as redis-server --version reports it', async () => {
    const info = await redis.client.info('server');
    const cli = /v=(\d+\.\d+\.\d+)/.exec(execFileSync('redis-server', ['--version'], { encoding: 'utf8' }))?.[1];
    const version = parseRedisVersion(info);
    expect(version?.text).toBe(cli);
    expect(version?.major).toBeGreaterThanOrEqual(7);
    expect(parseRedisVersion('# Server\r\nredis_version:6.2\r\nredis_mode:standalone\r\n')).toMatchObject({
      major: 6,
      minor: 2,
      patch: 0,
    });
    expect(parseRedisVersion('# Server\r\nvalkey_version:8.0.1\r\nredis_version:7.2.4\r\n')).toMatchObject({
      major: 7,
      minor: 2,
      patch: 4,
    });
    expect(parseRedisVersion('# Server\r\nredis_mode:standalone\r\n')).toBeUndefined();
    expect(parseRedisVersion('x_redis_version:9.0.0\r\n')).toBeUndefined();
  });

  /** A client on the shared Redis that reports `version` in INFO and counts the tag-TTL commands it sends. */
  function clientReporting(version: string | undefined): {
    client: Redis;
    counts: { pexpireFlags: number; eval: number };
  } {
    const client = redis.newClient();
    const counts = { pexpireFlags: 0, eval: 0 };
    const info = client.info.bind(client) as (section: string) => Promise<string>;
    const pexpire = client.pexpire.bind(client) as (...args: unknown[]) => Promise<number>;
    const evalScript = client.eval.bind(client) as (...args: unknown[]) => Promise<unknown>;
    if (version !== undefined) {
      Object.assign(client, {
        info: async (section: string) =>
          (await info(section)).replace(/^redis_version:.*$/m, `redis_version:${version}\r`),
      });
    }
    Object.assign(client, {
      pexpire: (...args: unknown[]) => {
        if (args.length > 2) counts.pexpireFlags++;
        return pexpire(...args);
      },
      eval: (...args: unknown[]) => {
        if (String(args[0]).includes("'pttl'")) counts.eval++;
        return evalScript(...args);
      },
    });
    return { client, counts };
  }

  async function connected(
    cache: Cache,
    logger: ReturnType<typeof recordingLogger>,
    detected: (l: Logged) => boolean,
  ): Promise<void> {
    const deadline = Date.now() + 10_000;
    while ((cache.stats().redis !== 'up' || !logger.lines.some(detected)) && Date.now() < deadline) await sleep(10);
    expect(cache.stats().redis).toBe('up');
  }

  // The same tag contract for both ways of keeping a tag set alive.
  describe.each([
    ['7.0.15 (PEXPIRE NX/GT)', undefined, 'native'],
    ['6.2.14 (Lua script fallback)', '6.2.14', 'script'],
  ] as const)('tagged writes on Redis %s', (_label, version, expected) => {
    it('keep the tag set alive as long as its longest-lived member, and deleteByTag works', async () => {
      const { client, counts } = clientReporting(version);
      const logger = recordingLogger();
      const prefix = `${redis.prefix}${expected}`;
      const cache = createCache({
        redis: client,
        prefix,
        logger,
        ttlJitter: 0,
        operationTimeoutMs: 1_000,
        distributedLock: false,
      });
      caches.push(cache);
      await connected(cache, logger, (l) => l.fields.redisVersion !== undefined);
      const detected = logger.lines.find((l) => l.fields.redisVersion !== undefined)!;
      if (expected === 'script') {
        expect(detected).toMatchObject({ level: 'warn', fields: { redisVersion: '6.2.14' } });
        expect(detected.message).toMatch(/older than 7\.0.*Lua script/);
      } else {
        expect(detected.level).toBe('debug');
      }
      const tagKey = `${prefix}!tag:${prefix}:team`;
      await cache.set('long', 1, { ttl: 60, tags: ['team'] });
      const afterLong = await redis.client.pttl(tagKey);
      expect(afterLong).toBeGreaterThan(55_000);
      // A shorter-lived member never shortens the set's life.
      await cache.set('short', 2, { ttl: 2, tags: ['team'] });
      expect(await redis.client.pttl(tagKey)).toBeGreaterThan(50_000);
      // A longer-lived one extends it.
      await cache.set('longer', 3, { ttl: 600, tags: ['team'] });
      expect(await redis.client.pttl(tagKey)).toBeGreaterThan(590_000);
      expect(await redis.client.scard(tagKey)).toBe(3);
      expect(counts).toEqual(expected === 'script' ? { pexpireFlags: 0, eval: 3 } : { pexpireFlags: 6, eval: 0 });
      expect(await cache.deleteByTag('team')).toBe(3);
      expect(await cache.getMany(['long', 'short', 'longer'])).toEqual([undefined, undefined, undefined]);
      expect(await redis.client.exists(tagKey)).toBe(0);
    });
  });

  it('reports a server older than 4.0 as a coded error event and an error log line', async () => {
    const { client } = clientReporting('3.2.1');
    const logger = recordingLogger();
    const cache = createCache({ redis: client, prefix: `${redis.prefix}old`, logger, operationTimeoutMs: 1_000 });
    caches.push(cache);
    const codes: string[] = [];
    cache.on('error', ({ error }) => codes.push(error.code));
    await connected(cache, logger, (l) => l.level === 'error');
    expect(codes).toContain('CACHE_REDIS_VERSION');
    expect(logger.lines.find((l) => l.level === 'error')?.message).toMatch(/Redis 3\.2\.1 is older than 4\.0/);
    // The cache keeps working for what the old server can do.
    await cache.set('k', 1, 60);
    expect(await cache.get('k')).toBe(1);
  });
});
