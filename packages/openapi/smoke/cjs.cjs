const assert = require('node:assert/strict');
const { OpenApiError } = require('@org/openapi');

const error = new OpenApiError('boom');
assert.equal(error.code, 'OPENAPI_ERROR');
console.log('cjs ok');
