import type Stripe from 'stripe';
import type { Logger } from 'pino';
import type { Database } from '../../db/database.js';
import { analysesInLastHour, subscriptionState, type SubscriptionState } from './queries.js';
import { BillingError } from './errors.js';
import { idempotencyKey } from './stripe-client.js';
import { TIERS, type Tier, type TierPlan } from './tiers.js';
import { createWebhookProcessor, type BillingFaults, type BillingHooks, type ProcessResult } from './webhooks.js';

/** Options of `createBilling`; the composition (compose.ts) fills them from the configuration. */
export interface BillingOptions {
  db: Database;
  /** From `createStripeClient` (its API base may be the fake server). */
  stripe: Stripe;
  logger: Logger;
  /** Stripe price ids of the paid tiers; a tier without a price cannot be bought. */
  prices: { pro?: string; enterprise?: string };
  /** Webhook signing secrets: the current one first, then the previous one during a rotation. */
  webhookSecrets: readonly string[];
  /** Largest age of a webhook signature, in seconds. @default 300 */
  webhookToleranceSeconds?: number;
  /** How long past_due keeps the paid tier. @default 7 days */
  pastDueGraceMs?: number;
  /** Where Checkout returns to; `{CHECKOUT_SESSION_ID}` is filled in by Stripe. */
  successUrl: string;
  cancelUrl: string;
  /** Where the Customer Portal returns to. */
  portalReturnUrl: string;
  /**
   * Requests for the same location and tier within this window reuse one idempotency key, so a retried or
   * double-clicked checkout gives the same session. @default 15 minutes
   */
  checkoutKeyWindowMs?: number;
  hooks?: BillingHooks;
  faults?: BillingFaults;
}

/** What GET /subscription reports. */
export interface SubscriptionReport extends SubscriptionState {
  /** Days of history kept and shown; null = unlimited. */
  retentionDays: number | null;
  limits: Pick<TierPlan, 'requestsPerMinute' | 'analysesPerHour'>;
  usage: {
    /** Analyses stored in the last hour (from analysis_results). */
    analysesPerHour: { used: number; limit: number };
  };
}

export interface Billing {
  checkout(input: {
    accountId: string;
    locationId: string;
    tier: Exclude<Tier, 'free'>;
  }): Promise<{ url: string; sessionId: string }>;
  portal(input: { locationId: string }): Promise<{ url: string }>;
  report(locationId: string): Promise<SubscriptionReport>;
  /** Verifies a raw webhook body against every configured secret; throws STRIPE_SIGNATURE_* on failure. */
  verify(rawBody: Buffer, signature: string | undefined): Stripe.Event;
  process(event: Stripe.Event): Promise<ProcessResult>;
}

const DAY_MS = 86_400_000;

function stripeFailure(error: unknown): BillingError {
  return new BillingError('STRIPE_UNAVAILABLE', 'The payment provider could not be reached; try again', {
    cause: error,
  });
}

export function createBilling(options: BillingOptions): Billing {
  const { db, stripe, logger } = options;
  const tolerance = options.webhookToleranceSeconds ?? 300;
  const windowMs = options.checkoutKeyWindowMs ?? 15 * 60_000;
  if (options.webhookSecrets.length === 0 || options.webhookSecrets.some((s) => !s)) {
    throw new BillingError('BILLING_INVALID_OPTIONS', 'at least one non-empty webhook secret is required');
  }
  if (!Number.isInteger(tolerance) || tolerance < 1)
    throw new BillingError('BILLING_INVALID_OPTIONS', 'webhookToleranceSeconds must be a positive integer');
  const priceTiers = new Map<string, Tier>();
  if (options.prices.pro) priceTiers.set(options.prices.pro, 'pro');
  if (options.prices.enterprise) priceTiers.set(options.prices.enterprise, 'enterprise');
  if (options.prices.pro && options.prices.pro === options.prices.enterprise)
    throw new BillingError('BILLING_INVALID_OPTIONS', 'pro and enterprise need different prices');

  const processor = createWebhookProcessor({
    db,
    stripe,
    logger,
    priceTiers,
    pastDueGraceMs: options.pastDueGraceMs ?? 7 * DAY_MS,
    hooks: options.hooks,
    faults: options.faults,
  });

  async function customerFor(accountId: string, locationId: string): Promise<string> {
    const existing = await db.read<{ customer_id: string }>(
      'SELECT customer_id FROM stripe_customers WHERE location_id = $1',
      [locationId],
    );
    if (existing.rows[0]) return existing.rows[0].customer_id;
    const account = await db.read<{ email: string; name: string | null }>(
      'SELECT email, name FROM accounts WHERE id = $1',
      [accountId],
    );
    let customer: Stripe.Customer;
    try {
      // One key per location: concurrent first checkouts (two tabs, two instances) get the same customer back.
      customer = await stripe.customers.create(
        {
          email: account.rows[0]?.email,
          name: account.rows[0]?.name ?? undefined,
          metadata: { location_id: locationId, account_id: accountId },
        },
        { idempotencyKey: idempotencyKey('customer', locationId) },
      );
    } catch (error) {
      throw stripeFailure(error);
    }
    await db.query('INSERT INTO stripe_customers (location_id, customer_id) VALUES ($1, $2) ON CONFLICT DO NOTHING', [
      locationId,
      customer.id,
    ]);
    const stored = await db.read<{ customer_id: string }>(
      'SELECT customer_id FROM stripe_customers WHERE location_id = $1',
      [locationId],
    );
    return stored.rows[0]!.customer_id;
  }

  return {
    async checkout({ accountId, locationId, tier }) {
      const price = options.prices[tier];
      if (!price)
        throw new BillingError(
          'BILLING_PRICE_NOT_CONFIGURED',
          `The ${tier} plan is not for sale here (no Stripe price configured)`,
        );
      // A second Checkout would start a second subscription (and a second charge): plan changes go through the portal.
      const current = await subscriptionState(db, locationId);
      if (current.subscriptionId && ['active', 'trialing', 'past_due'].includes(current.status)) {
        throw new BillingError(
          'BILLING_SUBSCRIPTION_EXISTS',
          'This location already has a subscription: change plans in the customer portal',
        );
      }
      const customer = await customerFor(accountId, locationId);
      const window = Math.floor(Date.now() / windowMs);
      try {
        const session = await stripe.checkout.sessions.create(
          {
            mode: 'subscription',
            customer,
            line_items: [{ price, quantity: 1 }],
            success_url: options.successUrl,
            cancel_url: options.cancelUrl,
            client_reference_id: locationId,
            metadata: { location_id: locationId, account_id: accountId, tier },
            subscription_data: { metadata: { location_id: locationId, account_id: accountId } },
          },
          { idempotencyKey: idempotencyKey('checkout', locationId, tier, price, window) },
        );
        if (!session.url) throw new Error('checkout session without url');
        return { url: session.url, sessionId: session.id };
      } catch (error) {
        throw stripeFailure(error);
      }
    },

    async portal({ locationId }) {
      const { rows } = await db.read<{ customer_id: string }>(
        'SELECT customer_id FROM stripe_customers WHERE location_id = $1',
        [locationId],
      );
      const customer = rows[0]?.customer_id;
      if (!customer)
        throw new BillingError('BILLING_NO_CUSTOMER', 'There is no billing account yet: start with a checkout');
      try {
        const session = await stripe.billingPortal.sessions.create(
          { customer, return_url: options.portalReturnUrl },
          { idempotencyKey: idempotencyKey('portal', customer, Math.floor(Date.now() / 60_000)) },
        );
        return { url: session.url };
      } catch (error) {
        throw stripeFailure(error);
      }
    },

    async report(locationId) {
      const [state, usage] = await Promise.all([subscriptionState(db, locationId), analysesInLastHour(db, locationId)]);
      const plan = TIERS[state.tier];
      return {
        ...state,
        retentionDays: plan.retentionDays,
        limits: { requestsPerMinute: plan.requestsPerMinute, analysesPerHour: plan.analysesPerHour },
        usage: { analysesPerHour: { used: usage, limit: plan.analysesPerHour } },
      };
    },

    verify(rawBody, signature) {
      if (!signature) throw new BillingError('STRIPE_SIGNATURE_MISSING', 'The Stripe-Signature header is missing');
      let lastError: unknown;
      for (const secret of options.webhookSecrets) {
        try {
          return stripe.webhooks.constructEvent(rawBody, signature, secret, tolerance);
        } catch (error) {
          lastError = error;
        }
      }
      throw new BillingError(
        'STRIPE_SIGNATURE_INVALID',
        'The Stripe signature does not match the body, or is too old',
        { cause: lastError },
      );
    },

    process: (event) => processor.process(event),
  };
}
