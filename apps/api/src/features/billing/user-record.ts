import type { Cache } from '@org/cache';
import { effectiveTierSql, type Tier } from './tiers.js';
import type { Database } from '../../db/database.js';
import { CacheKeys, CacheTtls } from '../../cache/keys.js';

/** What a request needs to know about its caller's location: the account and the subscription tier. */
export interface UserRecord {
  locationId: string;
  accountId: string;
  tier: Tier;
}

/**
 * One lookup by the unique location index: the location, its account and its effective tier (billing's rule:
 * active/trialing grant the price's tier, past_due keeps it until its grace ends; free otherwise).
 */
export const USER_RECORD_SQL = `SELECT l.id AS "locationId", l.account_id AS "accountId", COALESCE(${effectiveTierSql('sc')}, 'free') AS tier
  FROM locations l LEFT JOIN stripe_customers sc ON sc.location_id = l.id WHERE l.id = $1`;

/** Reads and caches `user:{locationId}` (15 min); tier changes delete it (see invalidateUserRecord). */
export interface UserRecords {
  get(locationId: string): Promise<UserRecord | undefined>;
  /** Called when the tier of a location changes (billing's onTierChanged): the next request reads the new tier. */
  invalidate(locationId: string): Promise<void>;
}

/** The user record from the database (undefined for an unknown location): what `user:{locationId}` caches. */
export async function loadUserRecord(db: Pick<Database, 'read'>, locationId: string): Promise<UserRecord | undefined> {
  return (await db.read<UserRecord>(USER_RECORD_SQL, [locationId])).rows[0];
}

export function createUserRecords(deps: { db: Pick<Database, 'read'>; cache?: Cache }): UserRecords {
  const load = (locationId: string) => loadUserRecord(deps.db, locationId);
  return {
    get(locationId) {
      // An unknown location yields undefined, which wrap does not cache.
      return deps.cache
        ? deps.cache.wrap(CacheKeys.user(locationId), () => load(locationId), CacheTtls.user)
        : load(locationId);
    },
    async invalidate(locationId) {
      await deps.cache?.delete(CacheKeys.user(locationId));
    },
  };
}
