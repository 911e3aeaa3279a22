import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasSharedRedis, sharedRedis, type SharedRedis } from '@org/test-services';
import { createCache, type Cache } from '../src/index.js';

// The cross-process lock of `wrap` is a lease that its holder renews while the factory runs. Two cache instances on
// one Redis coordinate only through that lock (each has its own in-process flights), as two processes do.
const redisUp = await hasSharedRedis();
const LEASE_MS = 300;

describe.skipIf(!redisUp)('wrap lock lease (two instances, shared Redis)', () => {
  let redis: SharedRedis;
  let n = 0;
  const opened: Cache[] = [];
  beforeAll(async () => {
    redis = await sharedRedis('cache-lease');
  });
  afterAll(async () => {
    for (const c of opened) await c.close();
    await redis?.cleanup();
  });

  function pair(): [Cache, Cache, string] {
    const prefix = `${redis.prefix}lease${n++}`;
    // Generous operation deadline: this test is about the lease, not about Redis latency on a busy machine.
    const make = () => createCache({ redis: redis.url, prefix, lockLeaseMs: LEASE_MS, operationTimeoutMs: 2_000 });
    const both: [Cache, Cache] = [make(), make()];
    opened.push(...both);
    return [...both, prefix];
  }

  it('a factory that runs for several leases keeps the lock: the other instance waits for its value, one factory call', async () => {
    const [a, b] = pair();
    await Promise.all([a.set('warm', 1), b.set('warm', 1)]);
    let calls = 0;
    const slow = () =>
      new Promise<string>((resolve) => {
        calls++;
        setTimeout(() => resolve('from-a'), LEASE_MS * 4);
      });
    const first = a.wrap('k', slow, { ttl: 60 });
    // b asks once a holds the lock.
    await new Promise((r) => setTimeout(r, 50));
    const second = b.wrap(
      'k',
      async () => {
        calls++;
        return 'from-b';
      },
      { ttl: 60 },
    );
    expect(await Promise.all([first, second])).toEqual(['from-a', 'from-a']);
    expect(calls).toBe(1);
  });

  it('a holder that stopped renewing (a dead process) frees the key within the lease: the waiter computes itself', async () => {
    const [, b, prefix] = pair();
    await b.set('warm', 1);
    // The lock of a process that died: taken, never renewed, never released.
    const lockKey = `${prefix}!lock:${prefix}:dead`;
    await redis.client.set(lockKey, 'dead-token', 'PX', LEASE_MS);
    const started = Date.now();
    const value = await b.wrap('dead', async () => 'computed', { ttl: 60 });
    const waited = Date.now() - started;
    expect(value).toBe('computed');
    // It waited for the lease (not forever). The upper bound is generous: not a timing test.
    expect(waited).toBeGreaterThanOrEqual(LEASE_MS - 100);
    expect(waited).toBeLessThan(LEASE_MS + 5_000);
  });

  it('a waiter waits at most its own hardTimeoutMs for a live holder', async () => {
    const [a, b] = pair();
    await Promise.all([a.set('warm', 1), b.set('warm', 1)]);
    const holding = a.wrap(
      'h',
      () => new Promise<string>((resolve) => setTimeout(() => resolve('late'), LEASE_MS * 10)),
      { ttl: 60 },
    );
    await new Promise((r) => setTimeout(r, 50));
    const started = Date.now();
    const own = await b.wrap('h', async () => 'own', { ttl: 60, hardTimeoutMs: LEASE_MS * 2 });
    expect(own).toBe('own');
    expect(Date.now() - started).toBeLessThan(LEASE_MS * 10 - 500);
    expect(await holding).toBe('late');
  });
});
