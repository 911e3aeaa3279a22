import type { Cache } from '@org/cache';
import type { Database } from '../db/database.js';
import { CacheKeys, CacheTtls } from './keys.js';

export type Tier = 'free' | 'pro' | 'enterprise';

/** What a request needs to know about its caller's location: the account and the subscription tier. */
export interface UserRecord {
  locationId: string;
  accountId: string;
  tier: Tier;
}

/** One indexed lookup: the location and its active subscription (idx_stripe_customers_active_subs). */
export const USER_RECORD_SQL = `SELECT l.id AS "locationId", l.account_id AS "accountId",
  COALESCE((SELECT sc.tier FROM stripe_customers sc WHERE sc.location_id = l.id AND sc.status = 'active' LIMIT 1), 'free') AS tier
  FROM locations l WHERE l.id = $1`;

/** Reads and caches `user:{locationId}` (15 min); tier changes delete it (see invalidateUserRecord). */
export interface UserRecords {
  get(locationId: string): Promise<UserRecord | undefined>;
  /** Called when the tier of a location changes (billing's onTierChanged): the next request reads the new tier. */
  invalidate(locationId: string): Promise<void>;
}

export function createUserRecords(deps: { db: Pick<Database, 'read'>; cache?: Cache }): UserRecords {
  const load = async (locationId: string) => (await deps.db.read<UserRecord>(USER_RECORD_SQL, [locationId])).rows[0];
  return {
    get(locationId) {
      // An unknown location yields undefined, which wrap does not cache.
      return deps.cache ? deps.cache.wrap(CacheKeys.user(locationId), () => load(locationId), CacheTtls.user) : load(locationId);
    },
    async invalidate(locationId) {
      await deps.cache?.delete(CacheKeys.user(locationId));
    },
  };
}
