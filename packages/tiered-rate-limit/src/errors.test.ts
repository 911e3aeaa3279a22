import { describe, expect, it } from 'vitest';
import { RateLimitError } from './errors.js';

describe('RateLimitError', () => {
  it('keeps a stable code and the cause', () => {
    const cause = new Error('root');
    const error = new RateLimitError('boom', { cause });
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('RateLimitError');
    expect(error.code).toBe('RATE_LIMIT_ERROR');
    expect(error.cause).toBe(cause);
  });
});
