import assert from 'node:assert/strict';
import { RateLimitError } from '@org/tiered-rate-limit';

const error = new RateLimitError('boom', { cause: new Error('root') });
assert.equal(error.code, 'RATE_LIMIT_ERROR');
assert.ok(error.cause instanceof Error);
console.log('esm ok');
