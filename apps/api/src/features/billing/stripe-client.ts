import { createHash } from 'node:crypto';
import Stripe from 'stripe';
import { BillingError } from './errors.js';

/** Options of `createStripeClient`. */
export interface StripeClientOptions {
  /** Secret API key (sk_live_..., sk_test_...). */
  secretKey: string;
  /** Where the Stripe API is: https://api.stripe.com, or our fake server in tests and demo mode. @default 'https://api.stripe.com' */
  apiBaseUrl?: string;
  /** Retries of one request by the SDK (5xx, 409, connection errors), each with the same idempotency key. @default 2 */
  maxNetworkRetries?: number;
  /** Per-request timeout in ms. @default 10000 */
  timeoutMs?: number;
}

/** The stripe SDK pointed at `apiBaseUrl` (host, port and protocol are taken from it). */
export function createStripeClient(options: StripeClientOptions): Stripe {
  if (!options.secretKey) throw new BillingError('BILLING_INVALID_OPTIONS', 'secretKey is required');
  let url: URL;
  try {
    url = new URL(options.apiBaseUrl ?? 'https://api.stripe.com');
  } catch (error) {
    throw new BillingError('BILLING_INVALID_OPTIONS', 'apiBaseUrl must be an absolute http(s) URL', { cause: error });
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw new BillingError('BILLING_INVALID_OPTIONS', 'apiBaseUrl must use http or https');
  const protocol = url.protocol === 'http:' ? 'http' : 'https';
  return new Stripe(options.secretKey, {
    host: url.hostname,
    port: url.port ? Number(url.port) : protocol === 'http' ? 80 : 443,
    protocol,
    maxNetworkRetries: options.maxNetworkRetries ?? 2,
    timeout: options.timeoutMs ?? 10_000,
    telemetry: false,
    appInfo: { name: 'ghl-health-api' },
  });
}

/**
 * An idempotency key derived from the logical operation, so a retried request (by the SDK, by the client, or by a
 * second instance behind the load balancer) reuses the key and Stripe creates the object once. Hashed so that ids
 * in the parts do not reach Stripe's dashboard as key text, and bounded to Stripe's 255 characters.
 */
export function idempotencyKey(operation: string, ...parts: (string | number)[]): string {
  const digest = createHash('sha256').update(parts.map(String).join('\u0000')).digest('hex').slice(0, 48);
  return `${operation}:${digest}`;
}
