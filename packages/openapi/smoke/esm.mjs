import assert from 'node:assert/strict';
import { OpenApiError } from '@org/openapi';

const error = new OpenApiError('boom', { cause: new Error('root') });
assert.equal(error.code, 'OPENAPI_ERROR');
assert.ok(error.cause instanceof Error);
console.log('esm ok');
