import type Stripe from 'stripe';
import type { Logger } from 'pino';
import type { Database, Queryable } from '../../db/database.js';
import { effectiveTier, isSubscriptionStatus, type SubscriptionStatus, type Tier } from './tiers.js';

/** What happened to one webhook event. */
export type WebhookOutcome = 'applied' | 'duplicate' | 'stale' | 'ignored';

/** Event types that change state; any other type is acknowledged (2xx) and not stored. */
export const HANDLED_EVENT_TYPES = [
  'checkout.session.completed',
  'customer.subscription.created',
  'customer.subscription.updated',
  'customer.subscription.deleted',
  'invoice.paid',
  'invoice.payment_failed',
] as const;

/** Observers of billing; called after the transaction commits, never inside it. They must not throw. */
export interface BillingHooks {
  /** A location's effective tier changed: drop its cached user record so rate limits use `tier` on the next request. */
  onTierChanged?: (locationId: string, tier: Tier, previous: Tier) => void;
  /** One webhook event was handled (metric subscription_events_total{type,outcome}). */
  onSubscriptionEvent?: (type: string, outcome: WebhookOutcome | 'error') => void;
}

/** Test-only fault injection points (production passes nothing). */
export interface BillingFaults {
  /** Runs inside the transaction, after the event row is inserted and before the state change. */
  afterEventRecorded?: (eventId: string) => void | Promise<void>;
}

export interface WebhookProcessorOptions {
  db: Database;
  /** Used to re-fetch the subscription for checkout and invoice events ("sync from source"). */
  stripe: Stripe;
  /** Price id -> tier (STRIPE_PRICE_PRO, STRIPE_PRICE_ENTERPRISE). */
  priceTiers: ReadonlyMap<string, Tier>;
  /** How long past_due keeps the paid tier, from the moment the subscription became past_due. */
  pastDueGraceMs: number;
  logger: Logger;
  hooks?: BillingHooks;
  faults?: BillingFaults;
}

export interface ProcessResult {
  outcome: WebhookOutcome;
  locationId?: string;
  tier?: Tier;
  previousTier?: Tier;
}

/** The subscription state an event leads to, and the time that state is "as of" (for ordering). */
interface Observed {
  customerId: string;
  locationId: string | undefined;
  subscriptionId: string | null;
  status: SubscriptionStatus;
  priceId: string | null;
  currentPeriodEnd: Date | null;
  asOf: Date;
}

type Json = Record<string, unknown>;
const idOf = (value: unknown): string | null =>
  typeof value === 'string'
    ? value
    : value && typeof value === 'object' && typeof (value as Json).id === 'string'
      ? ((value as Json).id as string)
      : null;

function fromSubscription(
  subscription: Json,
  asOf: Date,
  fallback: { customerId?: string | null; locationId?: string | null } = {},
): Observed | undefined {
  const customerId = idOf(subscription.customer) ?? fallback.customerId ?? null;
  if (!customerId) return undefined;
  const item = ((subscription.items as { data?: Json[] } | undefined)?.data ?? [])[0];
  // The period end moved from the subscription to its items in API version 2025-03-31; read both.
  const periodEnd = (item?.current_period_end ?? subscription.current_period_end) as number | undefined;
  const metadata = (subscription.metadata ?? {}) as Json;
  const status = subscription.status;
  return {
    customerId,
    locationId:
      (typeof metadata.location_id === 'string' ? metadata.location_id : undefined) ?? fallback.locationId ?? undefined,
    subscriptionId: idOf(subscription.id),
    status: isSubscriptionStatus(status) ? status : 'none',
    priceId: idOf(item?.price),
    currentPeriodEnd: typeof periodEnd === 'number' ? new Date(periodEnd * 1000) : null,
    asOf,
  };
}

/** Turns verified Stripe events into stripe_customers state, once per event, newest state wins. */
export function createWebhookProcessor(options: WebhookProcessorOptions) {
  const { db, stripe, logger, hooks } = options;

  /**
   * Re-fetched state is ordered by its event's `created`, not by our clock: comparing our clock with Stripe's could
   * mark a genuinely newer event stale when the clocks disagree by a second or two.
   */
  async function fetchSubscription(
    subscriptionId: string,
    eventCreated: Date,
    fallback: { customerId?: string | null; locationId?: string | null },
  ) {
    const subscription = (await stripe.subscriptions.retrieve(subscriptionId)) as unknown as Json;
    return fromSubscription(subscription, eventCreated, fallback);
  }

  /**
   * The location an unknown customer may be linked to: only one this server created for that location, i.e. whose
   * Stripe metadata (which only the API sets, in `customerFor`) names it. `client_reference_id` and subscription
   * metadata alone never link a customer: a Payment Link or a Pricing Table lets anyone set them.
   */
  async function linkableLocation(customerId: string, claimed: string): Promise<string | undefined> {
    const known = await db.read('SELECT 1 FROM stripe_customers WHERE customer_id = $1', [customerId]);
    if (known.rowCount) return claimed;
    const customer = (await stripe.customers.retrieve(customerId)) as unknown as Json;
    const metadata = (customer.metadata ?? {}) as Json;
    if (customer.deleted !== true && metadata.location_id === claimed) return claimed;
    logger.warn(
      { customerId, claimedLocationId: claimed },
      'stripe customer not created by this server for the claimed location: not linked',
    );
    return undefined;
  }

  /** Network reads happen before the transaction, so no connection is held while Stripe answers. */
  async function observe(event: Stripe.Event): Promise<Observed | undefined> {
    const object = event.data.object as unknown as Json;
    const created = new Date(event.created * 1000);
    switch (event.type) {
      case 'customer.subscription.created':
      case 'customer.subscription.updated':
      case 'customer.subscription.deleted': {
        // Synced from source like the other events: the payload of an event can be older than another event of the
        // same second, while the subscription read now is the current state. A subscription Stripe no longer has
        // (deleted) falls back to the payload, which is then final.
        const subscriptionId = idOf(object.id);
        if (!subscriptionId) return undefined;
        try {
          return await fetchSubscription(subscriptionId, created, { customerId: idOf(object.customer) });
        } catch (error) {
          if ((error as { code?: string }).code === 'resource_missing') return fromSubscription(object, created);
          throw error;
        }
      }
      case 'checkout.session.completed': {
        const metadata = (object.metadata ?? {}) as Json;
        const fallback = {
          customerId: idOf(object.customer),
          locationId:
            (object.client_reference_id as string | null) ?? (metadata.location_id as string | undefined) ?? null,
        };
        const subscriptionId = idOf(object.subscription);
        if (!subscriptionId || object.mode !== 'subscription') return undefined;
        return fetchSubscription(subscriptionId, created, fallback);
      }
      case 'invoice.paid':
      case 'invoice.payment_failed': {
        const parent = (object.parent ?? {}) as Json;
        // `invoice.subscription` moved to `invoice.parent.subscription_details.subscription` in 2025-03-31.
        const subscriptionId =
          idOf(object.subscription) ?? idOf(((parent.subscription_details ?? {}) as Json).subscription);
        if (!subscriptionId) return undefined;
        return fetchSubscription(subscriptionId, created, { customerId: idOf(object.customer) });
      }
      default:
        return undefined;
    }
  }

  async function apply(client: Queryable, event: Stripe.Event, observed: Observed): Promise<ProcessResult> {
    let { rows } = await client.query<Record<string, unknown>>(
      'SELECT location_id, subscription_id, tier, status, grace_until, last_event_created_at FROM stripe_customers WHERE customer_id = $1 FOR UPDATE',
      [observed.customerId],
    );
    if (rows.length === 0 && observed.locationId) {
      // The customer was created outside our checkout (dashboard, another instance's lost response): link it by the
      // location id we put in the metadata, unless the location already has a customer.
      await client.query(
        'INSERT INTO stripe_customers (location_id, customer_id) SELECT id, $2 FROM locations WHERE id = $1 ON CONFLICT DO NOTHING',
        [observed.locationId, observed.customerId],
      );
      ({ rows } = await client.query<Record<string, unknown>>(
        'SELECT location_id, subscription_id, tier, status, grace_until, last_event_created_at FROM stripe_customers WHERE customer_id = $1 FOR UPDATE',
        [observed.customerId],
      ));
    }
    const row = rows[0];
    if (!row) {
      logger.warn({ eventId: event.id, type: event.type }, 'stripe event for an unknown customer ignored');
      return { outcome: 'ignored' };
    }
    const locationId = row.location_id as string;
    const lastApplied = row.last_event_created_at as Date | null;
    if (lastApplied && observed.asOf.getTime() < lastApplied.getTime()) return { outcome: 'stale', locationId };
    // A subscription that was replaced (canceled, then a new one bought) must not downgrade the new one when it ends.
    if (
      event.type === 'customer.subscription.deleted' &&
      row.subscription_id &&
      row.subscription_id !== observed.subscriptionId
    ) {
      return { outcome: 'ignored', locationId };
    }

    const planTier: Tier = (observed.priceId && options.priceTiers.get(observed.priceId)) || 'free';
    if (observed.priceId && !options.priceTiers.has(observed.priceId)) {
      logger.warn(
        { eventId: event.id, priceId: observed.priceId },
        'stripe price is not mapped to a tier (STRIPE_PRICE_PRO/ENTERPRISE); treated as free',
      );
    }
    const previousGrace = row.grace_until as Date | null;
    const graceUntil =
      observed.status !== 'past_due'
        ? null
        : row.status === 'past_due' && previousGrace
          ? previousGrace
          : new Date(observed.asOf.getTime() + options.pastDueGraceMs);
    const now = new Date();
    const previousTier = effectiveTier(row.tier as string, row.status as string, previousGrace, now);
    const tier = effectiveTier(planTier, observed.status, graceUntil, now);

    await client.query(
      `UPDATE stripe_customers SET subscription_id = COALESCE($2, subscription_id), price_id = COALESCE($3, price_id), status = $4, tier = $5,
         current_period_end = $6, grace_until = $7, last_event_created_at = $8, updated_at = now() WHERE customer_id = $1`,
      [
        observed.customerId,
        observed.subscriptionId,
        observed.priceId,
        observed.status,
        planTier,
        observed.currentPeriodEnd,
        graceUntil,
        observed.asOf,
      ],
    );
    // locations.tier is a denormalised snapshot for readers that do not join; entitlement is read by locationTier().
    if (tier !== previousTier)
      await client.query('UPDATE locations SET tier = $2, updated_at = now() WHERE id = $1', [locationId, tier]);
    return { outcome: 'applied', locationId, tier, previousTier };
  }

  return {
    /** Records and applies one verified event in one transaction. Throws (-> 5xx, Stripe retries) only on failures worth retrying. */
    async process(event: Stripe.Event): Promise<ProcessResult> {
      if (!(HANDLED_EVENT_TYPES as readonly string[]).includes(event.type)) {
        hooks?.onSubscriptionEvent?.(event.type, 'ignored');
        return { outcome: 'ignored' };
      }
      let result: ProcessResult;
      try {
        // A redelivery of an event already recorded skips the Stripe re-fetch; the INSERT below stays the real guard.
        const seen = await db.read('SELECT 1 FROM stripe_events WHERE id = $1', [event.id]);
        if (seen.rowCount) {
          hooks?.onSubscriptionEvent?.(event.type, 'duplicate');
          return { outcome: 'duplicate' };
        }
        const observed = await observe(event);
        if (observed?.locationId)
          observed.locationId = await linkableLocation(observed.customerId, observed.locationId);
        result = await db.transaction(async (client) => {
          const inserted = await client.query(
            'INSERT INTO stripe_events (id, event_type, created_at, payload) VALUES ($1, $2, to_timestamp($3), $4) ON CONFLICT (id) DO NOTHING RETURNING id',
            [event.id, event.type, event.created, JSON.stringify(event)],
          );
          if (inserted.rowCount === 0) return { outcome: 'duplicate' as const };
          await options.faults?.afterEventRecorded?.(event.id);
          const applied: ProcessResult = observed ? await apply(client, event, observed) : { outcome: 'ignored' };
          await client.query('UPDATE stripe_events SET processed_at = now() WHERE id = $1', [event.id]);
          return applied;
        });
      } catch (error) {
        hooks?.onSubscriptionEvent?.(event.type, 'error');
        throw error;
      }
      hooks?.onSubscriptionEvent?.(event.type, result.outcome);
      if (
        result.outcome === 'applied' &&
        result.locationId &&
        result.tier &&
        result.previousTier &&
        result.tier !== result.previousTier
      ) {
        logger.info(
          { eventId: event.id, locationId: result.locationId, tier: result.tier, previousTier: result.previousTier },
          'tier changed',
        );
        try {
          hooks?.onTierChanged?.(result.locationId, result.tier, result.previousTier);
        } catch (error) {
          logger.warn({ err: error }, 'onTierChanged hook failed');
        }
      }
      return result;
    },
  };
}

export type WebhookProcessor = ReturnType<typeof createWebhookProcessor>;
