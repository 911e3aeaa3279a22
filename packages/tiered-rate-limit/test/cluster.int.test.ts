import type { Cluster } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canStartRedisCluster, startRedisCluster, type PrivateRedisCluster } from '@org/test-services';
import { createLimiter, defaultTiers, type Limiter } from '../src/index.js';

const canRun = canStartRedisCluster();

describe.skipIf(!canRun)('Redis Cluster (3 private masters)', () => {
  let cluster: PrivateRedisCluster;
  let client: Cluster;
  let limiter: Limiter;

  beforeAll(async () => {
    cluster = await startRedisCluster();
    client = cluster.client();
    limiter = createLimiter({ tiers: defaultTiers(), redis: client, timeoutMs: 2_000 });
  }, 60_000);

  afterAll(async () => {
    await limiter?.close();
    client?.disconnect();
    await cluster?.stop();
  });

  it('decides multi-policy requests in one script call on one hash slot, spread over the nodes by principal', async () => {
    const owners = new Set<number>();
    for (let i = 0; i < 30; i++) {
      const key = `acct-${i}`;
      const d = await limiter.check({ key, policies: ['general', 'analysis'] });
      expect(d.source).toBe('redis');
      expect(d.policies.map((p) => p.remaining)).toEqual([19, 9]);
      // One key per policy, all under the principal's hash tag, so a decision touches exactly one slot.
      const general = `rl:v2:{${key}}:general`;
      const analysis = `rl:v2:{${key}}:analysis`;
      expect(await client.hget(general, 'c')).toBe('1');
      expect(await client.hget(analysis, 'c')).toBe('1');
      const slot = Number(await client.cluster('KEYSLOT', general));
      expect(Number(await client.cluster('KEYSLOT', analysis))).toBe(slot);
      owners.add(slot);
    }
    // Different principals spread over the cluster rather than piling on one node.
    expect(owners.size).toBeGreaterThan(10);
  });

  it('is exact under concurrency and all-or-nothing on the cluster too', async () => {
    const decisions = await Promise.all(
      Array.from({ length: 60 }, () => limiter.check({ key: 'hot', tier: 'free', policies: ['general', 'analysis'] })),
    );
    expect(decisions.filter((d) => d.allowed)).toHaveLength(10);
    const general = await limiter.check({ key: 'hot', policies: ['general'] });
    expect(general.policies[0]!.remaining).toBe(9);
  });
});
