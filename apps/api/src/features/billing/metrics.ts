import type { Metrics } from '@org/metrics';
import type { Database } from '../../db/database.js';
import { TIER_NAMES } from './tiers.js';
import { effectiveTierSql } from './tiers.js';
import type { BillingHooks } from './webhooks.js';

/** Locations per effective tier: one grouped count, served by the unique location indexes. */
export const ACTIVE_USERS_SQL = `SELECT COALESCE(${effectiveTierSql('sc')}, 'free') AS tier, count(*)::int AS n
  FROM locations l LEFT JOIN stripe_customers sc ON sc.location_id = l.id GROUP BY 1`;

/**
 * Billing metrics on the app's @org/metrics instance: `subscription_events_total{type,outcome}` (fed by the webhook
 * processor's hook) and `active_users{tier}` (locations on each tier, read from the database at scrape time).
 * Returns the hook to pass to createBilling.
 */
export function billingMetrics(
  metrics: Metrics,
  db: Pick<Database, 'read'>,
): Required<Pick<BillingHooks, 'onSubscriptionEvent'>> {
  const events = metrics.counter({
    name: 'subscription_events_total',
    help: 'Stripe webhook events handled, by event type and outcome (applied, duplicate, stale, ignored, error).',
    labelNames: ['type', 'outcome'],
  });
  metrics.gauge({
    name: 'active_users',
    help: 'Locations (tenants) per effective subscription tier.',
    labelNames: ['tier'],
    // Every instance reads the same database: take one value, not the sum over cluster workers.
    aggregator: 'max',
    async collect() {
      const { rows } = await db.read<{ tier: string; n: number }>(ACTIVE_USERS_SQL);
      for (const tier of TIER_NAMES) this.set({ tier }, rows.find((r) => r.tier === tier)?.n ?? 0);
    },
  });
  return {
    // Event types are Stripe's fixed catalogue, not user input, so the label stays bounded.
    onSubscriptionEvent: (type, outcome) => events.inc({ type, outcome }),
  };
}
