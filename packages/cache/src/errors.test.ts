import { describe, expect, it } from 'vitest';
import { CacheError } from './errors.js';

describe('CacheError', () => {
  it('keeps a stable code and the cause', () => {
    const cause = new Error('root');
    const error = new CacheError('boom', { cause });
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('CacheError');
    expect(error.code).toBe('CACHE_ERROR');
    expect(error.cause).toBe(cause);
  });
});
