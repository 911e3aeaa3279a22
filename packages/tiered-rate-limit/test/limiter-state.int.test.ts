import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasSharedRedis, sharedRedis, type SharedRedis } from '@org/test-services';
import {
  createLimiter,
  defineTiers,
  InvalidOptionsError,
  UnknownTierError,
  type Limiter,
  type LimiterOptions,
} from '../src/index.js';

// get / refund / reset on the limiter, run against every store: process memory and real Redis.

const redisUp = await hasSharedRedis();
let shared: SharedRedis | undefined;
let n = 0;

beforeAll(async () => {
  if (redisUp) shared = await sharedRedis('rl-state');
});
afterAll(async () => {
  await shared?.cleanup();
});

const tiers = defineTiers({
  free: {
    policies: {
      general: { limit: 5, window: '1m' },
      burst: { limit: 4, window: '10s', algorithm: 'gcra' },
      hourly: { limit: 10, window: '1h', algorithm: 'sliding-window', blockDuration: '1m' },
    },
  },
  pro: {
    policies: {
      general: { limit: 50, window: '1m' },
      burst: { limit: 40, window: '10s', algorithm: 'gcra' },
      hourly: { limit: 100, window: '1h', algorithm: 'sliding-window', blockDuration: '1m' },
    },
  },
});

const stores: [string, boolean, () => Partial<LimiterOptions>][] = [
  ['memory', true, () => ({})],
  ['redis', redisUp, () => ({ redis: shared!.client, prefix: `${shared!.prefix}${n++}:`, timeoutMs: 2_000 })],
];

describe.each(stores)('limiter state operations (%s)', (store, enabled, extra) => {
  const open = async (options: Partial<LimiterOptions> = {}): Promise<Limiter> =>
    createLimiter({ tiers, localBlock: false, ...extra(), ...options });

  it.skipIf(!enabled)('get reads every policy without consuming anything', async () => {
    const limiter = await open();
    try {
      const fresh = await limiter.get('acct');
      expect(fresh.source).toBe(store);
      expect(fresh.policies.map((p) => [p.policy, p.remaining, p.limited])).toEqual([
        ['general', 5, false],
        ['burst', 4, false],
        ['hourly', 10, false],
      ]);
      await limiter.check({ key: 'acct', policies: ['general', 'burst', 'hourly'], cost: 2 });
      const read = await limiter.get({ key: 'acct' });
      const again = await limiter.get({ key: 'acct' });
      expect(read.policies.map((p) => p.remaining)).toEqual([3, 2, 8]);
      expect(again.policies).toEqual(
        read.policies.map((p) => ({ ...p, resetMs: again.policies.find((q) => q.policy === p.policy)!.resetMs })),
      );
      expect(read.policies[0]!.resetMs).toBeGreaterThan(50_000);
      // Against another tier's limits.
      expect(
        (await limiter.get({ key: 'acct', tier: 'pro', policies: ['general'] })).policies.map((p) => [
          p.limit,
          p.remaining,
        ]),
      ).toEqual([[50, 48]]);
    } finally {
      await limiter.close();
    }
  });

  it.skipIf(!enabled)('get reports limited, with the wait, once the next request would be rejected', async () => {
    const limiter = await open();
    try {
      for (let i = 0; i < 5; i++) expect((await limiter.check({ key: 'lim' })).allowed).toBe(true);
      const state = await limiter.get({ key: 'lim', policies: ['general'] });
      expect(state.policies[0]).toMatchObject({ policy: 'general', remaining: 0, limited: true });
      expect(state.policies[0]!.retryAfterMs).toBeGreaterThan(50_000);
    } finally {
      await limiter.close();
    }
  });

  it.skipIf(!enabled)('refund gives back what a check took, so a limited principal passes again', async () => {
    const limiter = await open();
    try {
      for (let i = 0; i < 5; i++) await limiter.check({ key: 'r', policies: ['general', 'hourly'] });
      expect((await limiter.check({ key: 'r', policies: ['general', 'hourly'] })).allowed).toBe(false);
      await limiter.refund({ key: 'r', policies: ['general', 'hourly'], cost: 2 });
      expect(
        (await limiter.get({ key: 'r', policies: ['general', 'hourly'] })).policies.map((p) => p.remaining),
      ).toEqual([2, 7]);
      expect((await limiter.check({ key: 'r', policies: ['general', 'hourly'] })).allowed).toBe(true);
      // The short form: key and cost, the table's first policy.
      await limiter.refund('r', 1);
      expect((await limiter.get({ key: 'r', policies: ['general'] })).policies[0]!.remaining).toBe(2);
      // Never more than the limit.
      await limiter.refund('r', 100);
      expect((await limiter.get({ key: 'r', policies: ['general'] })).policies[0]!.remaining).toBe(5);
    } finally {
      await limiter.close();
    }
  });

  it.skipIf(!enabled)(
    'a refund for a decision of a window that has ended gives nothing to the current one',
    async () => {
      const limiter = await open();
      try {
        await limiter.check({ key: 'old' });
        await limiter.refund({ key: 'old', at: Date.now() - 120_000 });
        expect((await limiter.get({ key: 'old', policies: ['general'] })).policies[0]!.remaining).toBe(4);
      } finally {
        await limiter.close();
      }
    },
  );

  it.skipIf(!enabled)('reset forgets a principal (every policy, or the ones listed) and not the others', async () => {
    const limiter = await open();
    try {
      for (const key of ['a', 'b'])
        for (let i = 0; i < 5; i++) await limiter.check({ key, policies: ['general', 'hourly'] });
      await limiter.reset({ key: 'a', policies: ['general'] });
      expect(
        (await limiter.get({ key: 'a', policies: ['general', 'hourly'] })).policies.map((p) => p.remaining),
      ).toEqual([5, 5]);
      await limiter.reset('a');
      expect(
        (await limiter.get({ key: 'a', policies: ['general', 'hourly'] })).policies.map((p) => p.remaining),
      ).toEqual([5, 10]);
      expect(
        (await limiter.get({ key: 'b', policies: ['general', 'hourly'] })).policies.map((p) => p.remaining),
      ).toEqual([0, 5]);
    } finally {
      await limiter.close();
    }
  });

  it.skipIf(!enabled)(
    'reset lifts a block set by blockDuration and the local block list; a refund does not lift the block',
    async () => {
      const limiter = await open({ localBlock: true });
      try {
        const hourly = { key: 'blk', policies: ['hourly'], cost: 10 };
        expect((await limiter.check(hourly)).allowed).toBe(true);
        expect((await limiter.check(hourly)).allowed).toBe(false);
        await limiter.refund(hourly);
        expect((await limiter.check({ ...hourly, cost: 1 })).allowed).toBe(false);
        await limiter.reset('blk');
        const after = await limiter.check({ ...hourly, cost: 1 });
        expect(after.allowed).toBe(true);
        expect(after.source).toBe(store);
      } finally {
        await limiter.close();
      }
    },
  );

  it.skipIf(!enabled)('rejects bad input with typed errors', async () => {
    const limiter = await open();
    try {
      await expect(limiter.get('')).rejects.toBeInstanceOf(InvalidOptionsError);
      await expect(limiter.reset({ key: 'x', policies: ['nope'] })).rejects.toBeInstanceOf(UnknownTierError);
      await expect(limiter.refund({ key: 'x', cost: -1 })).rejects.toBeInstanceOf(InvalidOptionsError);
      await expect(limiter.refund({ key: 'x', at: Number.NaN })).rejects.toBeInstanceOf(InvalidOptionsError);
    } finally {
      await limiter.close();
    }
  });
});

describe.skipIf(!redisUp)('limiter state operations across instances (redis)', () => {
  it('a reset or refund on one instance is seen by another at once', async () => {
    const options = {
      tiers,
      redis: shared!.client,
      prefix: `${shared!.prefix}x${n++}:`,
      timeoutMs: 2_000,
      localBlock: false,
    };
    const a = createLimiter(options);
    const b = createLimiter(options);
    try {
      for (let i = 0; i < 5; i++) await a.check({ key: 'k' });
      expect((await b.check({ key: 'k' })).allowed).toBe(false);
      await a.refund('k');
      expect((await b.check({ key: 'k' })).allowed).toBe(true);
      await a.reset('k');
      expect((await b.get({ key: 'k', policies: ['general'] })).policies[0]!.remaining).toBe(5);
    } finally {
      await a.close();
      await b.close();
    }
  });
});

describe.skipIf(!redisUp)('Redis key layout', () => {
  it("keeps each policy in its own versioned key and never reads the previous layout's value (rolling deploys)", async () => {
    const prefix = `${shared!.prefix}layout${n++}:`;
    const limiter = createLimiter({ tiers, redis: shared!.client, connection: 'shared', prefix, timeoutMs: 2_000 });
    try {
      // What an instance of the previous release writes for this principal: one string holding every policy.
      await shared!.client.set(`${prefix}{acct}`, `${Date.now() + 60_000};general=${Date.now()}:5`, 'PX', 60_000);
      const d = await limiter.check({ key: 'acct', policies: ['general', 'hourly'] });
      expect(d.allowed).toBe(true);
      expect(d.policies.map((p) => p.remaining)).toEqual([4, 9]);
      expect(await shared!.client.hget(`${prefix}v2:{acct}:general`, 'c')).toBe('1');
      expect(await shared!.client.hget(`${prefix}v2:{acct}:hourly`, 'c')).toBe('1');
      // The previous release's value is left alone for its own instances.
      expect(await shared!.client.get(`${prefix}{acct}`)).toMatch(/;general=\d+:5$/);
    } finally {
      await limiter.close();
    }
  });
});
