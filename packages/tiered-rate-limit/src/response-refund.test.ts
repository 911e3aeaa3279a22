import { afterEach, describe, expect, it } from 'vitest';
import { createLimiter } from './limiter.js';
import { createResponseRefund, requestWasSuccessful } from './response-refund.js';
import { defineTiers } from './tiers.js';
import type { Limiter } from './types.js';

// The framework-free refund step every binding (Express here, others in their own files) runs after a response.

const tiers = defineTiers({ free: { policies: { login: { limit: 3, window: '1m' } } } });
const opened: Limiter[] = [];
afterEach(async () => {
  for (const l of opened.splice(0)) await l.close();
});
const open = () => {
  const limiter = createLimiter({ tiers });
  opened.push(limiter);
  return limiter;
};
const remaining = async (limiter: Limiter, key: string) => (await limiter.get(key)).policies[0]!.remaining;
const settled = () => new Promise((resolve) => setTimeout(resolve, 10));

describe('requestWasSuccessful (the default judge)', () => {
  it('is a response sent in full with a status below 400', () => {
    expect(requestWasSuccessful({ statusCode: 200, finished: true })).toBe(true);
    expect(requestWasSuccessful({ statusCode: 399, finished: true })).toBe(true);
    expect(requestWasSuccessful({ statusCode: 400, finished: true })).toBe(false);
    expect(requestWasSuccessful({ statusCode: 503, finished: true })).toBe(false);
    expect(requestWasSuccessful({ statusCode: 200, finished: false })).toBe(false);
  });
});

describe('createResponseRefund', () => {
  it('is disabled without options and validates them at construction', () => {
    expect(createResponseRefund().enabled).toBe(false);
    expect(createResponseRefund({ skipFailedRequests: true }).enabled).toBe(true);
    expect(() => createResponseRefund({ skipSuccessfulRequests: 1 as never })).toThrow(
      expect.objectContaining({ code: 'RATE_LIMIT_INVALID_OPTIONS', path: 'skipSuccessfulRequests' }),
    );
  });

  it('refunds the outcomes the options skip, with the cost the check took, and leaves the others counted', async () => {
    const limiter = open();
    const refunds = createResponseRefund({ skipSuccessfulRequests: true });
    const input = { key: 'k', cost: 2 };
    const ok = await limiter.check(input);
    refunds.settle(limiter, input, ok, true);
    await settled();
    expect(await remaining(limiter, 'k')).toBe(3);
    const failed = await limiter.check({ key: 'k' });
    refunds.settle(limiter, { key: 'k' }, failed, false);
    await settled();
    expect(await remaining(limiter, 'k')).toBe(2);
    // An async judge; one that rejects counts as a failure.
    const later = await limiter.check({ key: 'k' });
    refunds.settle(limiter, { key: 'k' }, later, Promise.resolve(true));
    await settled();
    expect(await remaining(limiter, 'k')).toBe(2);
    const rejected = await limiter.check({ key: 'k' });
    refunds.settle(limiter, { key: 'k' }, rejected, Promise.reject(new Error('judge failed')));
    await settled();
    expect(await remaining(limiter, 'k')).toBe(1);
  });

  it('never refunds a rejected decision or one answered without counting', async () => {
    const limiter = open();
    const refunds = createResponseRefund({ skipFailedRequests: true, skipSuccessfulRequests: true });
    for (let i = 0; i < 3; i++) await limiter.check({ key: 'r' });
    const limited = await limiter.check({ key: 'r' });
    expect(limited.allowed).toBe(false);
    refunds.settle(limiter, { key: 'r' }, limited, false);
    refunds.settle(limiter, { key: 'r' }, { ...limited, allowed: true, source: 'local-block' }, false);
    refunds.settle(limiter, { key: 'r' }, { ...limited, allowed: true, source: 'none' }, false);
    await settled();
    expect(await remaining(limiter, 'r')).toBe(0);
  });

  it('settling after the limiter closed never throws into the caller', async () => {
    const limiter = open();
    const d = await limiter.check({ key: 'c' });
    await limiter.close();
    expect(() =>
      createResponseRefund({ skipSuccessfulRequests: true }).settle(limiter, { key: 'c' }, d, true),
    ).not.toThrow();
    await settled();
  });
});
