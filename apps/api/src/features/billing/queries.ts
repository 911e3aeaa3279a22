import { effectiveTierSql, isSubscriptionStatus, isTier, type SubscriptionStatus, type Tier } from './tiers.js';
import type { Database } from '../../db/database.js';

/** SQL of the per-request subscription check (served by the partial idx_stripe_customers_active_subs). */
export const ACTIVE_SUBSCRIPTION_SQL = `SELECT tier, current_period_end AS "currentPeriodEnd" FROM stripe_customers WHERE location_id = $1 AND status = 'active'`;

export interface ActiveSubscription {
  tier: 'free' | 'pro' | 'enterprise';
  currentPeriodEnd: string | null;
}

/** The subscription with status 'active' (trialing and past_due grace are not counted: use `locationTier` for entitlement). */
export async function activeSubscription(
  db: Pick<Database, 'read'>,
  locationId: string,
): Promise<ActiveSubscription | undefined> {
  const { rows } = await db.read(ACTIVE_SUBSCRIPTION_SQL, [locationId]);
  return rows[0] as ActiveSubscription | undefined;
}

// ---- Entitlement: the direct read of "what tier is this location on". The rule itself is effectiveTierSql in
// tiers.ts, which every reader applies in its own SQL (the cached user record, history retention, the purge).

/** SQL of `locationTier`: the effective tier (free without a row or without entitlement), by the unique location index. */
export const LOCATION_TIER_SQL = `SELECT ${effectiveTierSql('sc')} AS tier FROM stripe_customers sc WHERE sc.location_id = $1`;

/** The tier a location is on right now: active/trialing grant the price's tier, past_due keeps it until its grace ends. */
export async function locationTier(db: Pick<Database, 'read'>, locationId: string): Promise<Tier> {
  const { rows } = await db.read<{ tier: string }>(LOCATION_TIER_SQL, [locationId]);
  const tier = rows[0]?.tier;
  return isTier(tier) ? tier : 'free';
}

/** Everything GET /subscription shows about a location's subscription. */
export interface SubscriptionState {
  tier: Tier;
  /** The tier of the subscribed price, whether or not it is currently granted. */
  planTier: Tier;
  status: SubscriptionStatus;
  customerId: string | null;
  subscriptionId: string | null;
  priceId: string | null;
  currentPeriodEnd: string | null;
  graceUntil: string | null;
}

export const SUBSCRIPTION_STATE_SQL = `SELECT ${effectiveTierSql('sc')} AS tier, sc.tier AS "planTier", sc.status, sc.customer_id AS "customerId",
  sc.subscription_id AS "subscriptionId", sc.price_id AS "priceId", sc.current_period_end AS "currentPeriodEnd", sc.grace_until AS "graceUntil"
  FROM stripe_customers sc WHERE sc.location_id = $1`;

/** The subscription of a location; a location that never started checkout is on free with status 'none'. */
export async function subscriptionState(db: Pick<Database, 'read'>, locationId: string): Promise<SubscriptionState> {
  const { rows } = await db.read<Record<string, unknown>>(SUBSCRIPTION_STATE_SQL, [locationId]);
  const row = rows[0];
  if (!row)
    return {
      tier: 'free',
      planTier: 'free',
      status: 'none',
      customerId: null,
      subscriptionId: null,
      priceId: null,
      currentPeriodEnd: null,
      graceUntil: null,
    };
  const iso = (v: unknown) => (v instanceof Date ? v.toISOString() : v == null ? null : String(v));
  return {
    tier: isTier(row.tier) ? row.tier : 'free',
    planTier: isTier(row.planTier) ? row.planTier : 'free',
    status: isSubscriptionStatus(row.status) ? row.status : 'none',
    customerId: (row.customerId as string | null) ?? null,
    subscriptionId: (row.subscriptionId as string | null) ?? null,
    priceId: (row.priceId as string | null) ?? null,
    currentPeriodEnd: iso(row.currentPeriodEnd),
    graceUntil: iso(row.graceUntil),
  };
}

/** Analyses the location stored in the last hour (GET /subscription's usage against the tier's hourly limit). */
export async function analysesInLastHour(db: Pick<Database, 'read'>, locationId: string): Promise<number> {
  const { rows } = await db.read<{ n: number }>(
    "SELECT count(*)::int AS n FROM analysis_results WHERE location_id = $1 AND created_at > now() - interval '1 hour'",
    [locationId],
  );
  return rows[0]?.n ?? 0;
}
