import { describe, expect, it } from 'vitest';
import { MetricsError } from './errors.js';

describe('MetricsError', () => {
  it('keeps a stable code and the cause', () => {
    const cause = new Error('root');
    const error = new MetricsError('boom', { cause });
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('MetricsError');
    expect(error.code).toBe('METRICS_ERROR');
    expect(error.cause).toBe(cause);
  });
});
