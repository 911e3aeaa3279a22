import fc from 'fast-check';
import { createClient } from 'redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasSharedRedis, sharedRedis, type SharedRedis } from '@org/test-services';
import { REFUND, RESET } from '../src/lua-admin.js';
import { MemoryStore } from '../src/memory-store.js';
import { RedisStore } from '../src/redis-store.js';

// One property suite, run against both stores: the Lua script (real Redis, decision time passed in
// ARGV so that window boundaries can be driven) and the in-memory store. They must also agree exactly.

const redisUp = await hasSharedRedis();
type Decide = (keys: string[], args: number[], now: number) => Promise<number[]>;
/** Gives back the cost in `args` (5 numbers per policy, as for decide) of a request decided at `at`; resolves to the policies changed. */
type Refund = (keys: string[], args: number[], at: number, now: number) => Promise<number>;
/** Forgets the listed policies of the principal. */
type Reset = (keys: string[]) => Promise<void>;
const FIXED = 1;
const SLIDING = 2;
const GCRA = 3;
const T0 = 1_800_000_000_000;

let shared: SharedRedis | undefined;
let store: RedisStore | undefined;
let nodeStore: RedisStore | undefined;
let nodeClient: ReturnType<typeof createClient> | undefined;
let run = 0;

beforeAll(async () => {
  if (!redisUp) return;
  shared = await sharedRedis('rl-contract');
  store = new RedisStore(shared.client, {
    connection: 'shared',
    timeoutMs: 2_000,
    probeIntervalMs: 200,
    logger: console,
    onStateChange: undefined,
  });
  nodeClient = createClient({ url: shared.url });
  await nodeClient.connect();
  nodeStore = new RedisStore(nodeClient, {
    connection: 'shared',
    timeoutMs: 2_000,
    probeIntervalMs: 200,
    logger: console,
    onStateChange: undefined,
  });
});
afterAll(async () => {
  await store?.close();
  await nodeStore?.close();
  await nodeClient?.close();
  await shared?.cleanup();
});

/** The refund script's ARGV tail: per policy the first 4 of decide's 5 numbers. */
const refundArgv = (args: number[]) => args.flatMap((v, i) => (i % 5 === 4 ? [] : [v]));

function memoryImpl(m = new MemoryStore({ maxKeys: 10_000 })): {
  decide: Decide;
  refund: Refund;
  reset: Reset;
  ns: string;
} {
  return {
    decide: async (k, a, now) => m.decide(k, a, now),
    refund: async (k, a, at, now) => m.refund(k, a, at, now),
    reset: async (k) => void m.remove(k),
    ns: 'm:',
  };
}

function redisImpl(
  ns = `${shared!.prefix}${run++}:`,
  through: () => RedisStore = () => store!,
): { decide: Decide; refund: Refund; reset: Reset; ns: string } {
  // Redis keeps each policy of a principal in its own key, as the memory store does.
  return {
    decide: (k, a, now) => through().decide(k, a, now),
    refund: async (k, a, at, now) => ((await through().script(REFUND, k, [now, at, ...refundArgv(a)])) as number[])[1]!,
    reset: async (k) => void (await through().script(RESET, k, [])),
    ns,
  };
}

const implementations: [string, boolean, () => { decide: Decide; refund: Refund; reset: Reset; ns: string }][] = [
  ['memory store', true, () => memoryImpl()],
  ['Redis Lua script', redisUp, () => redisImpl()],
  ['Redis Lua script through node-redis', redisUp, () => redisImpl(undefined, () => nodeStore!)],
];

const ops = fc.array(fc.record({ dt: fc.integer({ min: 0, max: 4_000 }), cost: fc.integer({ min: 0, max: 4 }) }), {
  minLength: 1,
  maxLength: 40,
});

describe.each(implementations)('%s', (_name, enabled, make) => {
  it.skipIf(!enabled)(
    'fixed window: admitted cost per window never exceeds the limit, and cost > remaining is rejected without overdraft',
    async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.integer({ min: 1, max: 6 }),
          fc.integer({ min: 1, max: 10 }),
          ops,
          async (limit, winS, seq) => {
            const { decide, ns } = make();
            const win = winS * 1000;
            let now = T0;
            let start = -Infinity;
            let used = 0;
            for (const { dt, cost } of seq) {
              now += dt;
              const r = await decide([`${ns}a`], [FIXED, limit, win, cost, 0], now);
              // A window starts with the first admitted request; a rejection writes nothing.
              const expired = now >= start + win;
              const curStart = expired ? now : start;
              const curUsed = expired ? 0 : used;
              const fits = curUsed + cost <= limit;
              expect(r[0]).toBe(fits ? 1 : 0);
              if (fits) {
                start = curStart;
                used = curUsed + cost;
              }
              expect(r[2]).toBe(limit - (fits ? used : curUsed));
              expect(r[3]).toBe(curStart + win - now);
              if (!fits) expect(r[4]).toBe(curStart + win - now);
            }
          },
        ),
        { numRuns: 60 },
      );
    },
  );

  it.skipIf(!enabled)('limit 1: exactly one request per window, then the next window admits one again', async () => {
    const { decide, ns } = make();
    for (const algo of [FIXED, SLIDING, GCRA]) {
      const admitted: number[] = [];
      for (let i = 0; i < 40; i++) {
        const now = T0 + i * 250; // 10 s in 250 ms steps, window 5 s
        const r = await decide([`${ns}one${algo}`], [algo, 1, 5_000, 1, 0], now);
        if (r[0] === 1) admitted.push(now - T0);
      }
      if (algo === FIXED || algo === GCRA) expect(admitted).toEqual([0, 5_000]);
      // T0 starts an aligned window; the first request still weighs in the next window and frees up only at its end.
      if (algo === SLIDING) expect(admitted).toEqual([0]);
    }
  });

  it.skipIf(!enabled)('gcra: in any interval of length d, admitted cost <= limit + d / (window / limit)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 8 }),
        fc.integer({ min: 1, max: 6 }),
        ops,
        async (limit, winS, seq) => {
          const { decide, ns } = make();
          const win = winS * 1000;
          const step = win / limit;
          let now = T0;
          const admitted: [number, number][] = [];
          for (const { dt, cost } of seq) {
            now += dt;
            const r = await decide([`${ns}g`], [GCRA, limit, win, cost, 0], now);
            if (r[0] === 1 && cost > 0) admitted.push([now, cost]);
            if (r[0] === 0) expect(r[4]).toBeGreaterThan(0);
          }
          for (let i = 0; i < admitted.length; i++) {
            let sum = 0;
            for (let j = i; j < admitted.length; j++) {
              sum += admitted[j]![1];
              const d = admitted[j]![0] - admitted[i]![0];
              expect(sum).toBeLessThanOrEqual(limit + Math.floor(d / step) + 1e-9);
            }
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  it.skipIf(!enabled)('sliding window: admitted cost within one aligned window never exceeds the limit', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 8 }),
        fc.integer({ min: 1, max: 6 }),
        ops,
        async (limit, winS, seq) => {
          const { decide, ns } = make();
          const win = winS * 1000;
          let now = T0;
          const perWindow = new Map<number, number>();
          for (const { dt, cost } of seq) {
            now += dt;
            const r = await decide([`${ns}s`], [SLIDING, limit, win, cost, 0], now);
            if (r[0] === 1) {
              const idx = Math.floor(now / win);
              perWindow.set(idx, (perWindow.get(idx) ?? 0) + cost);
              // The weighted previous window plus this one stays within the limit.
              const prev = perWindow.get(idx - 1) ?? 0;
              const elapsed = now - idx * win;
              expect((prev * (win - elapsed)) / win + perWindow.get(idx)!).toBeLessThanOrEqual(limit + 1e-9);
            } else expect(r[4]).toBeGreaterThan(0);
          }
          for (const used of perWindow.values()) expect(used).toBeLessThanOrEqual(limit);
        },
      ),
      { numRuns: 60 },
    );
  });

  it.skipIf(!enabled)(
    'all-or-nothing: a request rejected by one policy consumes from none (every algorithm)',
    async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom(FIXED, SLIDING, GCRA),
          fc.constantFrom(FIXED, SLIDING, GCRA),
          fc.integer({ min: 1, max: 5 }),
          ops,
          async (algoA, algoB, limitB, seq) => {
            const { decide, ns } = make();
            let now = T0;
            const keys = [`${ns}gen`, `${ns}exp`];
            for (const { dt, cost } of seq) {
              now += Math.min(dt, 50);
              const before = await decide([keys[0]!], [algoA, 1000, 60_000, 0, 0], now);
              const r = await decide(keys, [algoA, 1000, 60_000, 1, 0, algoB, limitB, 3_600_000, cost, 0], now);
              const after = await decide([keys[0]!], [algoA, 1000, 60_000, 0, 0], now);
              if (r[0] === 0) {
                expect(r[9]).toBe(1);
                expect(after[2]).toBe(before[2]);
                expect(r[2]).toBe(before[2]);
              } else {
                expect(after[2]).toBe(before[2]! - 1);
              }
            }
          },
        ),
        { numRuns: 40 },
      );
    },
  );

  it.skipIf(!enabled)(
    'block duration: a rejection blocks the key for blockDuration, then it starts afresh',
    async () => {
      const { decide, ns } = make();
      const args = [FIXED, 2, 10_000, 1, 30_000];
      expect((await decide([`${ns}b`], args, T0))[0]).toBe(1);
      expect((await decide([`${ns}b`], args, T0 + 1))[0]).toBe(1);
      const rejected = await decide([`${ns}b`], args, T0 + 2);
      expect(rejected[0]).toBe(0);
      expect(rejected[4]).toBe(30_000);
      // Still blocked after the 10 s window ended; the block is not extended by further attempts.
      const later = await decide([`${ns}b`], args, T0 + 20_000);
      expect(later[0]).toBe(0);
      expect(later[4]).toBe(10_002);
      expect((await decide([`${ns}b`], args, T0 + 30_003))[0]).toBe(1);
    },
  );
});

describe.each(implementations)('%s: refund and reset', (_name, enabled, make) => {
  // step = window / limit is a whole number of ms for these limits, so GCRA arrival times round exactly.
  const limits = fc.constantFrom(1, 2, 4, 5, 8);

  it.skipIf(!enabled)(
    'a refund of what a request just took restores the remaining units exactly (every algorithm)',
    async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom(FIXED, SLIDING, GCRA),
          limits,
          fc.integer({ min: 1, max: 5 }),
          ops,
          fc.integer({ min: 1, max: 4 }),
          async (algo, limit, winS, seq, cost) => {
            const { decide, refund, ns } = make();
            const key = [`${ns}r`];
            let now = T0;
            for (const { dt, cost: c } of seq) {
              now += dt;
              await decide(key, [algo, limit, winS * 1000, c, 0], now);
            }
            now += 1;
            const before = await decide(key, [algo, limit, winS * 1000, 0, 0], now);
            const taken = await decide(key, [algo, limit, winS * 1000, cost, 0], now);
            if (taken[0] === 1) expect(await refund(key, [algo, limit, winS * 1000, cost, 0], now, now)).toBe(1);
            const after = await decide(key, [algo, limit, winS * 1000, 0, 0], now);
            expect(after[2]).toBe(before[2]);
          },
        ),
        { numRuns: 50 },
      );
    },
  );

  it.skipIf(!enabled)('never gives back more than the limit, whatever is refunded', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(FIXED, SLIDING, GCRA),
        limits,
        fc.array(
          fc.record({
            dt: fc.integer({ min: 0, max: 1_500 }),
            cost: fc.integer({ min: 0, max: 4 }),
            refund: fc.integer({ min: 0, max: 9 }),
          }),
          { minLength: 1, maxLength: 30 },
        ),
        async (algo, limit, seq) => {
          const { decide, refund, ns } = make();
          const key = [`${ns}n`];
          let now = T0;
          for (const step of seq) {
            now += step.dt;
            const r = await decide(key, [algo, limit, 4_000, step.cost, 0], now);
            await refund(key, [algo, limit, 4_000, step.refund, 0], r[1]!, now);
            const read = await decide(key, [algo, limit, 4_000, 0, 0], now);
            expect(read[2]).toBeGreaterThanOrEqual(0);
            expect(read[2]).toBeLessThanOrEqual(limit);
          }
        },
      ),
      { numRuns: 50 },
    );
  });

  it.skipIf(!enabled)('a fixed or sliding window that did not count the request gets nothing back', async () => {
    for (const algo of [FIXED, SLIDING]) {
      const { decide, refund, ns } = make();
      const key = [`${ns}w${algo}`];
      const args = [algo, 3, 10_000, 1, 0];
      expect((await decide(key, args, T0))[0]).toBe(1);
      // Two windows later: the request counted at T0 is gone, and the current window counted other requests.
      const later = T0 + 20_000;
      await decide(key, args, later);
      await decide(key, args, later);
      const before = await decide(key, [algo, 3, 10_000, 0, 0], later);
      expect(await refund(key, args, T0, later)).toBe(0);
      expect((await decide(key, [algo, 3, 10_000, 0, 0], later))[2]).toBe(before[2]);
    }
  });

  it.skipIf(!enabled)('a block set by blockDuration stays after a refund', async () => {
    const { decide, refund, ns } = make();
    const key = [`${ns}blk`];
    const args = [FIXED, 1, 10_000, 1, 60_000];
    expect((await decide(key, args, T0))[0]).toBe(1);
    expect((await decide(key, args, T0 + 1))[0]).toBe(0);
    expect(await refund(key, args, T0, T0 + 2)).toBe(0);
    expect((await decide(key, args, T0 + 3))[0]).toBe(0);
  });

  it.skipIf(!enabled)('reset forgets the listed policies only; the others keep their counts', async () => {
    const { decide, reset, ns } = make();
    const keys = [`${ns}x`, `${ns}y`];
    const args = [FIXED, 2, 60_000, 2, 0, GCRA, 5, 60_000, 1, 0];
    expect((await decide(keys, args, T0))[0]).toBe(1);
    expect((await decide(keys, args, T0 + 1))[0]).toBe(0);
    await reset([keys[0]!]);
    const r = await decide(keys, args, T0 + 2);
    expect(r[0]).toBe(1);
    expect(r.slice(2, 3)).toEqual([0]);
    // y consumed once before and once now: 3 of 5 left.
    expect(r[6]).toBe(3);
  });
});

describe.skipIf(!redisUp)('the Lua script and the memory store', () => {
  it('return identical replies for random decisions, refunds and resets', async () => {
    const op = fc.record({
      dt: fc.integer({ min: 0, max: 2_500 }),
      kind: fc.constantFrom('decide', 'decide', 'refund', 'reset'),
      cost: fc.integer({ min: 0, max: 3 }),
      back: fc.integer({ min: 0, max: 2_000 }),
    });
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(FIXED, SLIDING, GCRA),
        fc.integer({ min: 1, max: 7 }),
        fc.integer({ min: 1, max: 5 }),
        fc.array(op, { minLength: 1, maxLength: 30 }),
        async (algo, limit, winS, seq) => {
          const m = memoryImpl();
          const r = redisImpl();
          let now = T0 + 77;
          for (const step of seq) {
            now += step.dt;
            const args = [algo, limit, winS * 1000, step.cost, 0];
            if (step.kind === 'decide')
              expect(await m.decide([`${m.ns}p`], args, now)).toEqual(await r.decide([`${r.ns}p`], args, now));
            else if (step.kind === 'refund')
              expect(await m.refund([`${m.ns}p`], args, now - step.back, now)).toBe(
                await r.refund([`${r.ns}p`], args, now - step.back, now),
              );
            else {
              await m.reset([`${m.ns}p`]);
              await r.reset([`${r.ns}p`]);
            }
          }
        },
      ),
      { numRuns: 100 },
    );
  });

  it('return identical replies for the same random multi-policy sequence', async () => {
    const policy = fc.record({
      algo: fc.constantFrom(FIXED, SLIDING, GCRA),
      limit: fc.integer({ min: 1, max: 7 }),
      winS: fc.integer({ min: 1, max: 5 }),
      cost: fc.integer({ min: 0, max: 3 }),
      blkS: fc.constantFrom(0, 0, 2),
    });
    await fc.assert(
      fc.asyncProperty(
        fc.array(policy, { minLength: 1, maxLength: 3 }),
        fc.array(fc.record({ dt: fc.integer({ min: 0, max: 2_500 }), mask: fc.integer({ min: 1, max: 7 }) }), {
          minLength: 1,
          maxLength: 30,
        }),
        async (policies, seq) => {
          const memory = new MemoryStore({ maxKeys: 1_000 });
          const ns = `${shared!.prefix}eq${run++}:`;
          let now = T0 + 123;
          for (const { dt, mask } of seq) {
            now += dt;
            const chosen = policies.map((p, i) => ({ p, i })).filter(({ i }) => mask & (1 << i));
            if (chosen.length === 0) continue;
            const keys = chosen.map(({ i }) => `p${i}`);
            const args = chosen.flatMap(({ p }) => [p.algo, p.limit, p.winS * 1000, p.cost, p.blkS * 1000]);
            const fromRedis = await store!.decide(
              keys.map((k) => `${ns}principal:${k}`),
              args,
              now,
            );
            expect(memory.decide(keys, args, now)).toEqual(fromRedis);
          }
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe.skipIf(!redisUp)('decisions of one tick (one batched script call)', () => {
  it.each([
    ['ioredis', () => store!],
    ['node-redis', () => nodeStore!],
  ] as const)('%s: give the replies the memory store gives the same decisions one by one', async (_name, which) => {
    const policy = fc.record({
      algo: fc.constantFrom(FIXED, SLIDING, GCRA),
      limit: fc.integer({ min: 1, max: 7 }),
      winS: fc.integer({ min: 1, max: 5 }),
      cost: fc.integer({ min: 0, max: 3 }),
      blkS: fc.constantFrom(0, 0, 2),
    });
    await fc.assert(
      fc.asyncProperty(
        fc.array(policy, { minLength: 1, maxLength: 3 }),
        fc.array(fc.record({ principal: fc.integer({ min: 0, max: 4 }), mask: fc.integer({ min: 1, max: 7 }) }), {
          minLength: 2,
          maxLength: 40,
        }),
        async (policies, calls) => {
          const memory = new MemoryStore({ maxKeys: 1_000 });
          const ns = `${shared!.prefix}tick${run++}:`;
          const now = T0 + 777;
          const batch = calls
            .map(({ principal, mask }) => ({
              principal,
              chosen: policies.map((p, i) => ({ p, i })).filter(({ i }) => mask & (1 << i)),
            }))
            .filter(({ chosen }) => chosen.length > 0)
            .map(({ principal, chosen }) => ({
              principal,
              names: chosen.map(({ i }) => `p${i}`),
              args: chosen.flatMap(({ p }) => [p.algo, p.limit, p.winS * 1000, p.cost, p.blkS * 1000]),
            }));
          // Issued in one tick: they travel as one script call and are decided in this order.
          const fromRedis = await Promise.all(
            batch.map((d) =>
              which().decide(
                d.names.map((n) => `${ns}{u${d.principal}}:${n}`),
                d.args,
                now,
              ),
            ),
          );
          const fromMemory = batch.map((d) =>
            memory.decide(
              d.names.map((n) => `u${d.principal}:${n}`),
              d.args,
              now,
            ),
          );
          expect(fromRedis).toEqual(fromMemory);
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe.skipIf(!redisUp)('the Lua script on foreign values', () => {
  it('treats a value it did not write as empty instead of failing', async () => {
    const key = `${shared!.prefix}foreign`;
    await shared!.client.set(key, 'not-our-format');
    const reply = await store!.decide([key], [FIXED, 5, 60_000, 1, 0], T0);
    expect(reply.slice(0, 3)).toEqual([1, T0, 4]);
    // and replaces it with its own state
    expect((await store!.decide([key], [FIXED, 5, 60_000, 1, 0], T0)).slice(0, 3)).toEqual([1, T0, 3]);
  });
});
