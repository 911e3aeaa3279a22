import { describe, expect, it } from 'vitest';
import { BillingError } from '../features/billing/errors.js';
import { DatabaseUnavailableError } from '../db/errors.js';
import { HttpError } from './errors.js';
import { toHttpError } from './error-handler.js';

describe('toHttpError', () => {
  it('keeps HttpErrors as they are', () => {
    const error = new HttpError(409, 'CONFLICT', 'Already exists');
    expect(toHttpError(error)).toBe(error);
  });

  it('turns database outages into 503 with Retry-After', () => {
    const mapped = toHttpError(new DatabaseUnavailableError('DATABASE_BUSY', 'The database is busy'));
    expect(mapped).toMatchObject({ status: 503, code: 'DATABASE_BUSY', headers: { 'Retry-After': '1' } });
  });

  it('maps billing failures: conflicts 409, a provider outage 503 with Retry-After, bad signatures 400, a configuration bug 500', () => {
    const conflict = toHttpError(new BillingError('BILLING_SUBSCRIPTION_EXISTS', 'exists'));
    expect([conflict.status, conflict.code]).toEqual([409, 'BILLING_SUBSCRIPTION_EXISTS']);
    const outage = toHttpError(new BillingError('STRIPE_UNAVAILABLE', 'down'));
    expect([outage.status, outage.headers['Retry-After']]).toEqual([503, '5']);
    expect(toHttpError(new BillingError('STRIPE_SIGNATURE_INVALID', 'bad')).status).toBe(400);
    const bug = toHttpError(new BillingError('BILLING_INVALID_OPTIONS', 'secret key missing'));
    expect([bug.status, bug.code, bug.message]).toEqual([500, 'INTERNAL_ERROR', 'Internal server error']);
  });

  it('maps body-parser errors by type', () => {
    expect(toHttpError(Object.assign(new Error('x'), { type: 'entity.too.large', status: 413 }))).toMatchObject({
      status: 413,
      code: 'PAYLOAD_TOO_LARGE',
    });
    expect(toHttpError(Object.assign(new Error('x'), { type: 'entity.parse.failed', status: 400 }))).toMatchObject({
      status: 400,
      code: 'INVALID_JSON',
    });
    expect(toHttpError(Object.assign(new Error('x'), { type: 'something.new', status: 422 }))).toMatchObject({
      status: 422,
      code: 'BAD_REQUEST',
    });
  });

  it('hides everything else behind 500 INTERNAL_ERROR with a fixed message', () => {
    const mapped = toHttpError(new Error('password=hunter2 at /srv/app/src/x.ts:10'));
    expect(mapped).toMatchObject({ status: 500, code: 'INTERNAL_ERROR', message: 'Internal server error' });
    expect(toHttpError('a string')).toMatchObject({ status: 500 });
    expect(toHttpError(undefined)).toMatchObject({ status: 500 });
  });
});
