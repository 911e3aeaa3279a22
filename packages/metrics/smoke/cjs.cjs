const assert = require('node:assert/strict');
const { MetricsError } = require('@org/metrics');

const error = new MetricsError('boom');
assert.equal(error.code, 'METRICS_ERROR');
console.log('cjs ok');
