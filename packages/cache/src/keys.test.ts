import fc from 'fast-check';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { CacheKeyError, CacheOptionsError } from './errors.js';
import { defineKeys } from './keys.js';

const CacheKeys = defineKeys(
  {
    workflow: 'workflow:{locationId}:{workflowId}',
    workflows: 'workflows:{locationId}',
    analysis: 'analysis:{workflowId}',
    user: 'user:{locationId}',
  },
  { tenant: 'locationId' },
);

/** The part Redis Cluster hashes: the first {...} with at least one character. */
const hashTag = (key: string) => /\{([^}]+)\}/.exec(key)?.[1];

describe('defineKeys', () => {
  it('builds keys with the tenant as the Redis Cluster hash tag', () => {
    expect(CacheKeys.workflow('loc1', 'wf9')).toBe('workflow:{loc1}:wf9');
    expect(CacheKeys.workflows('loc1')).toBe('workflows:{loc1}');
    expect(CacheKeys.user(42)).toBe('user:{42}');
    expect(CacheKeys.analysis('wf9')).toBe('analysis:wf9');
    expect(hashTag(CacheKeys.workflow('loc1', 'x'))).toBe(hashTag(CacheKeys.workflows('loc1')));
    expect(CacheKeys.workflow.template).toBe('workflow:{locationId}:{workflowId}');
  });

  it('is typed: one argument per placeholder', () => {
    expectTypeOf(CacheKeys.workflow).parameters.toEqualTypeOf<[string | number | bigint, string | number | bigint]>();
    // @ts-expect-error one argument missing
    expect(() => CacheKeys.workflow('loc1')).toThrow(CacheKeyError);
  });

  it('escapes separators and braces so different arguments never collide (property)', () => {
    fc.assert(
      fc.property(
        fc.tuple(fc.string({ minLength: 1 }), fc.string({ minLength: 1 })),
        fc.tuple(fc.string({ minLength: 1 }), fc.string({ minLength: 1 })),
        (a, b) => {
          fc.pre(a[0] !== b[0] || a[1] !== b[1]);
          expect(CacheKeys.workflow(...a)).not.toBe(CacheKeys.workflow(...b));
          expect(hashTag(CacheKeys.workflow(...a))).toBe(hashTag(CacheKeys.workflows(a[0])));
        },
      ),
    );
  });

  it('rejects bad parts and bad templates with typed errors', () => {
    expect(() => CacheKeys.workflows('')).toThrow(CacheKeyError);
    expect(() => CacheKeys.workflows(Number.NaN)).toThrow(CacheKeyError);
    expect(() => defineKeys({ bad: 'a:{x}:{x}' })).toThrow(CacheOptionsError);
    expect(() => defineKeys({ bad: 'a:{x' })).toThrow(CacheOptionsError);
  });
});
