import { describe, expect, it } from 'vitest';
import { OpenApiError } from './errors.js';

describe('OpenApiError', () => {
  it('keeps a stable code and the cause', () => {
    const cause = new Error('root');
    const error = new OpenApiError('boom', { cause });
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('OpenApiError');
    expect(error.code).toBe('OPENAPI_ERROR');
    expect(error.cause).toBe(cause);
  });
});
