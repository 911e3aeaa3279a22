const assert = require('node:assert/strict');
const { RateLimitError } = require('@org/tiered-rate-limit');

const error = new RateLimitError('boom');
assert.equal(error.code, 'RATE_LIMIT_ERROR');
console.log('cjs ok');
