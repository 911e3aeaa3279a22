import type { Database } from '../database.js';

/** SQL of the per-request subscription check (served by the partial idx_stripe_customers_active_subs). */
export const ACTIVE_SUBSCRIPTION_SQL = `SELECT tier, current_period_end AS "currentPeriodEnd" FROM stripe_customers WHERE location_id = $1 AND status = 'active'`;

export interface ActiveSubscription {
  tier: 'free' | 'pro' | 'enterprise';
  currentPeriodEnd: string | null;
}

/** The active subscription of a location; undefined means the free tier. */
export async function activeSubscription(db: Pick<Database, 'read'>, locationId: string): Promise<ActiveSubscription | undefined> {
  const { rows } = await db.read(ACTIVE_SUBSCRIPTION_SQL, [locationId]);
  return rows[0] as ActiveSubscription | undefined;
}
