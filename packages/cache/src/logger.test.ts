import { describe, expect, it } from 'vitest';
import { createCache } from './cache.js';
import { CacheOptionsError } from './errors.js';
import { redact } from './logger.js';

describe('logger', () => {
  it('masks credentials in messages and cuts them short', () => {
    expect(redact('connect to redis://user:hunter2@cache.internal:6379 failed')).toBe(
      'connect to redis://***@cache.internal:6379 failed',
    );
    expect(redact('rediss://:hunter2@h:1')).toBe('rediss://***@h:1');
    expect(redact('AUTH hunter2 failed; password=hunter2 token: abc')).not.toMatch(/hunter2|abc/);
    expect(redact('x'.repeat(10_000))).toHaveLength(300);
  });

  it('accepts a pino-shaped logger and refuses anything else', () => {
    const pinoLike = { error() {}, warn() {}, info() {}, debug() {}, fatal() {}, child() {} };
    expect(() => createCache({ logger: pinoLike })).not.toThrow();
    expect(() => createCache({ logger: console })).not.toThrow();
    expect(() => createCache({ logger: { warn() {} } as never })).toThrow(CacheOptionsError);
    expect(() => createCache({ logger: 'stdout' as never })).toThrow(/logger/);
  });
});
