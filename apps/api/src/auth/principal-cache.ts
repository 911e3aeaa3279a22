import type { Cache } from '@org/cache';
import { CacheKeys } from '../cache/keys.js';
import { NegativeCache } from './negative-cache.js';
import type { Principal } from './principal.js';

/** How long a verified credential is trusted without asking PostgreSQL again (near copy in memory: 5 s). */
export const PRINCIPAL_TTL_SECONDS = 30;

/** What is cached for a credential: never the credential itself (the key is its SHA-256, the session token is not stored). */
interface CachedPrincipal {
  kind: Principal['kind'];
  accountId: string;
  locationId: string | null;
  scopes?: readonly string[];
  /** When the credential ends (absolute expiry), ms since epoch; null: no expiry. */
  expiresAt: number | null;
}

/**
 * Verified credentials (sessions, API keys) in the app's @org/cache for {@link PRINCIPAL_TTL_SECONDS}: a request with a
 * known credential costs a memory read instead of a PostgreSQL round trip. Logout, key revocation and GHL uninstall
 * delete the entries through the cache, which tells the other instances (pub/sub), so the very next request is
 * refused everywhere. A change made in the database by hand takes effect within the TTL.
 */
export interface PrincipalCache {
  get(kind: Principal['kind'], credentialHash: string): Promise<Omit<Principal, 'sessionToken'> | undefined>;
  set(principal: Principal, credentialHash: string, expiresAt: Date | null): Promise<void>;
  /** Forgets one credential (logout, revocation). */
  forget(kind: Principal['kind'], credentialHash: string): Promise<void>;
  /** Forgets every credential of a location (GHL uninstall). */
  forgetLocation(locationId: string): Promise<void>;
}

const tagOf = (locationId: string) => `principals:${locationId}`;
/** One principal cache per @org/cache instance, so that every store of the process shares its tombstones. */
const perCache = new WeakMap<Cache, PrincipalCache>();

/** The principal cache on `cache` (memoized: the stores of one process share it). */
export function principalCache(cache: Cache): PrincipalCache {
  let existing = perCache.get(cache);
  if (!existing) perCache.set(cache, (existing = create(cache)));
  return existing;
}

function create(cache: Cache): PrincipalCache {
  // Credentials forgotten in this process: a verification that was already in flight when the credential was revoked
  // must not put it back.
  const forgotten = new NegativeCache(PRINCIPAL_TTL_SECONDS * 2_000);
  const keyOf = (kind: Principal['kind'], hash: string) => CacheKeys.principal(kind, hash);
  const drop = async (key: string) => {
    forgotten.add(key);
    await cache.delete(key);
    // Once more shortly after: an instance whose lookup was in flight during the revocation may have written it back.
    setTimeout(() => void cache.delete(key).catch(() => undefined), 1_000).unref();
  };
  return {
    async get(kind, hash) {
      const key = keyOf(kind, hash);
      const hit = await cache.get<CachedPrincipal>(key).catch(() => undefined);
      if (!hit || forgotten.has(key)) return undefined;
      if (hit.expiresAt !== null && hit.expiresAt <= Date.now()) return undefined;
      return {
        kind: hit.kind,
        accountId: hit.accountId,
        locationId: hit.locationId,
        ...(hit.scopes ? { scopes: hit.scopes } : {}),
      };
    },
    async set(principal, hash, expiresAt) {
      const key = keyOf(principal.kind, hash);
      if (forgotten.has(key)) return;
      const until = expiresAt ? expiresAt.getTime() : null;
      const ttl = Math.min(PRINCIPAL_TTL_SECONDS, until === null ? Infinity : Math.floor((until - Date.now()) / 1000));
      if (ttl < 1) return;
      const value: CachedPrincipal = {
        kind: principal.kind,
        accountId: principal.accountId,
        locationId: principal.locationId,
        ...(principal.scopes ? { scopes: principal.scopes } : {}),
        expiresAt: until,
      };
      // Best effort: a credential that cannot be cached is looked up again next time.
      await cache
        .set(key, value, { ttl, ...(principal.locationId ? { tags: [tagOf(principal.locationId)] } : {}) })
        .catch(() => undefined);
    },
    forget: (kind, hash) => drop(keyOf(kind, hash)),
    async forgetLocation(locationId) {
      await cache.deleteByTag(tagOf(locationId));
      setTimeout(() => void cache.deleteByTag(tagOf(locationId)).catch(() => undefined), 1_000).unref();
    },
  };
}
