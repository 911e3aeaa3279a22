const assert = require('node:assert/strict');
const { CacheError } = require('@org/cache');

const error = new CacheError('boom');
assert.equal(error.code, 'CACHE_ERROR');
console.log('cjs ok');
