import assert from 'node:assert/strict';
import { CacheError } from '@org/cache';

const error = new CacheError('boom', { cause: new Error('root') });
assert.equal(error.code, 'CACHE_ERROR');
assert.ok(error.cause instanceof Error);
console.log('esm ok');
