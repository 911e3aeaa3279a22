import assert from 'node:assert/strict';
import { MetricsError } from '@org/metrics';

const error = new MetricsError('boom', { cause: new Error('root') });
assert.equal(error.code, 'METRICS_ERROR');
assert.ok(error.cause instanceof Error);
console.log('esm ok');
