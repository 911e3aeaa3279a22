import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../config/config.js';
import type { Database } from '../../db/database.js';
import { createBilling, type BillingOptions } from './billing.js';
import { BillingError } from './errors.js';
import { createStripeClient, idempotencyKey } from './stripe-client.js';

describe('billing configuration', () => {
  it('reads the webhook secrets (comma list, then the previous one), prices, grace and purge interval', () => {
    const config = loadConfig({
      STRIPE_WEBHOOK_SECRET: 'whsec_new, whsec_newer',
      STRIPE_WEBHOOK_SECRET_PREVIOUS: 'whsec_old',
      STRIPE_PRICE_PRO: 'price_p',
      STRIPE_PRICE_ENTERPRISE: 'price_e',
      STRIPE_PAST_DUE_GRACE_DAYS: '3',
      RETENTION_PURGE_INTERVAL_MS: '0',
    });
    expect(config.stripe).toMatchObject({
      webhookSecrets: ['whsec_new', 'whsec_newer', 'whsec_old'],
      prices: { pro: 'price_p', enterprise: 'price_e' },
      pastDueGraceDays: 3,
      retentionPurgeIntervalMs: 0,
    });
    expect(loadConfig({}).stripe).toMatchObject({
      webhookSecrets: [expect.stringMatching(/^whsec_[\w-]{20,}$/)],
      prices: { pro: undefined, enterprise: undefined },
      pastDueGraceDays: 7,
      retentionPurgeIntervalMs: 3_600_000,
    });
  });

  it('refuses a malformed grace period or purge interval, naming the variable', () => {
    expect(() => loadConfig({ STRIPE_PAST_DUE_GRACE_DAYS: '-1' })).toThrow(ConfigError);
    expect(() => loadConfig({ RETENTION_PURGE_INTERVAL_MS: 'hourly' })).toThrow(/RETENTION_PURGE_INTERVAL_MS/);
  });
});

describe('createBilling and createStripeClient options', () => {
  const base: BillingOptions = {
    db: {} as Database,
    stripe: createStripeClient({ secretKey: 'sk_test_x', apiBaseUrl: 'http://127.0.0.1:1' }),
    logger: pino({ level: 'silent' }),
    prices: { pro: 'price_p' },
    webhookSecrets: ['whsec_x'],
    successUrl: 'https://x.test/s',
    cancelUrl: 'https://x.test/c',
    portalReturnUrl: 'https://x.test/p',
  };
  const code = (fn: () => unknown) => {
    try {
      fn();
    } catch (error) {
      expect(error).toBeInstanceOf(BillingError);
      return (error as BillingError).code;
    }
    return 'no error';
  };

  it('throws BILLING_INVALID_OPTIONS on missing secrets, a bad tolerance, one price for two tiers, a bad API base', () => {
    expect(code(() => createBilling({ ...base, webhookSecrets: [] }))).toBe('BILLING_INVALID_OPTIONS');
    expect(code(() => createBilling({ ...base, webhookSecrets: [''] }))).toBe('BILLING_INVALID_OPTIONS');
    expect(code(() => createBilling({ ...base, webhookToleranceSeconds: 0 }))).toBe('BILLING_INVALID_OPTIONS');
    expect(code(() => createBilling({ ...base, prices: { pro: 'price_same', enterprise: 'price_same' } }))).toBe(
      'BILLING_INVALID_OPTIONS',
    );
    expect(code(() => createStripeClient({ secretKey: 'sk_test_x', apiBaseUrl: 'ftp://stripe' }))).toBe(
      'BILLING_INVALID_OPTIONS',
    );
    expect(code(() => createStripeClient({ secretKey: '' }))).toBe('BILLING_INVALID_OPTIONS');
    expect(code(() => createBilling(base))).toBe('no error');
  });

  it('derives idempotency keys from the logical operation: stable, distinct per input, no ids in clear', () => {
    expect(idempotencyKey('checkout', 'loc-1', 'pro', 5)).toBe(idempotencyKey('checkout', 'loc-1', 'pro', 5));
    expect(idempotencyKey('checkout', 'loc-1', 'pro', 5)).not.toBe(idempotencyKey('checkout', 'loc-1', 'pro', 6));
    expect(idempotencyKey('checkout', 'loc-1', 'pro', 5)).not.toBe(
      idempotencyKey('checkout', 'loc-1', 'enterprise', 5),
    );
    // Separator-safe: ('a','bc') and ('ab','c') differ.
    expect(idempotencyKey('x', 'a', 'bc')).not.toBe(idempotencyKey('x', 'ab', 'c'));
    expect(idempotencyKey('customer', 'loc-secret-id')).not.toContain('loc-secret-id');
  });
});
