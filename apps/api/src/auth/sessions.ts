import type { Cache } from '@org/cache';
import type { Response } from 'express';
import type { Queryable } from '../db/database.js';
import { NegativeCache, singleFlight } from './negative-cache.js';
import type { Principal } from './principal.js';
import { principalCache } from './principal-cache.js';
import { randomToken, sha256, sign, unsign } from './tokens.js';

/** Cookie settings derived from the environment: `__Host-` needs Secure, so it is used when Secure is. */
export interface SessionCookie {
  name: string;
  secure: boolean;
  maxAgeMs: number;
}

export function sessionCookie(isProduction: boolean, maxAgeMs = 7 * 24 * 3_600_000): SessionCookie {
  // Browsers only accept `__Host-` cookies that are Secure, Path=/ and host-only; plain-http development cannot be Secure.
  return isProduction
    ? { name: '__Host-session', secure: true, maxAgeMs }
    : { name: 'session', secure: false, maxAgeMs };
}

/** Server-side sessions in PostgreSQL; the cookie holds a random id signed with SESSION_SECRET. */
export interface SessionStore {
  /** Creates a session and returns the signed cookie value. */
  create(accountId: string, locationId: string | null, ttlMs: number): Promise<string>;
  /** The principal of a signed cookie value, or undefined (bad signature, unknown, expired). */
  verify(cookieValue: string): Promise<Principal | undefined>;
  revoke(sessionToken: string): Promise<void>;
}

/** A session unused for this long ends, whatever its absolute expiry. */
export const SESSION_IDLE_TIMEOUT_MS = 24 * 3_600_000;

/**
 * Sessions end at their absolute expiry, or after `idleTimeoutMs` without a request (`last_seen_at` is refreshed at
 * most every 5 minutes, so the idle timeout is exact to 5 minutes). A cookie whose session is gone (logged out,
 * revoked, expired) is remembered for a minute, so replaying it costs no query. With `cache`, a live session is
 * remembered for 30 s (src/auth/principal-cache.ts): logout forgets it in every instance sharing the cache.
 */
export function createSessionStore(
  db: Queryable,
  secret: string,
  options: { idleTimeoutMs?: number; cache?: Cache } = {},
): SessionStore {
  const idleMs = options.idleTimeoutMs ?? SESSION_IDLE_TIMEOUT_MS;
  const principals = options.cache ? principalCache(options.cache) : undefined;
  const dead = new NegativeCache();
  const once = singleFlight<Principal | undefined>();
  return {
    async create(accountId, locationId, ttlMs) {
      const token = randomToken();
      await db.query(
        "INSERT INTO sessions (id_hash, account_id, location_id, expires_at) VALUES ($1, $2, $3, now() + $4 * interval '1 millisecond')",
        [sha256(token), accountId, locationId, ttlMs],
      );
      return sign(token, secret);
    },
    async verify(cookieValue) {
      // A forged cookie fails its HMAC signature here, without a query.
      const token = unsign(cookieValue, secret);
      if (!token) return undefined;
      const hash = sha256(token);
      const cacheKey = hash.toString('base64url');
      if (dead.has(cacheKey)) return undefined;
      const known = await principals?.get('session', cacheKey);
      if (known) return { ...known, sessionToken: token };
      return once(cacheKey, async () => {
        // last_seen_at is refreshed at most every 5 minutes: a write on every request would cost more than the lookup.
        const { rows } = await db.query<{ account_id: string; location_id: string | null; expires_at: Date }>(
          `WITH touched AS (
             UPDATE sessions SET last_seen_at = now()
              WHERE id_hash = $1 AND expires_at > now() AND last_seen_at > now() - $2 * interval '1 millisecond'
                AND last_seen_at < now() - interval '5 minutes')
           SELECT account_id, location_id, expires_at FROM sessions
            WHERE id_hash = $1 AND expires_at > now() AND last_seen_at > now() - $2 * interval '1 millisecond'`,
          [hash, idleMs],
        );
        const row = rows[0];
        if (!row) {
          dead.add(cacheKey);
          return undefined;
        }
        const principal = {
          kind: 'session',
          accountId: row.account_id,
          locationId: row.location_id,
          sessionToken: token,
        } satisfies Principal;
        await principals?.set(principal, cacheKey, row.expires_at);
        return principal;
      });
    },
    async revoke(sessionToken) {
      const hash = sha256(sessionToken);
      dead.add(hash.toString('base64url'));
      await db.query('DELETE FROM sessions WHERE id_hash = $1', [hash]);
      await principals?.forget('session', hash.toString('base64url'));
    },
  };
}

/** Deletes sessions past their absolute expiry or their idle timeout; returns how many. */
export async function sweepSessions(db: Queryable, idleTimeoutMs = SESSION_IDLE_TIMEOUT_MS): Promise<number> {
  const { rowCount } = await db.query(
    "DELETE FROM sessions WHERE expires_at <= now() OR last_seen_at <= now() - $1 * interval '1 millisecond'",
    [idleTimeoutMs],
  );
  return rowCount ?? 0;
}

/** Sets the session cookie: HttpOnly, SameSite=Lax, Path=/, Secure (and `__Host-`) in production. */
export function setSessionCookie(res: Response, cookie: SessionCookie, signedValue: string): void {
  res.cookie(cookie.name, signedValue, {
    httpOnly: true,
    secure: cookie.secure,
    sameSite: 'lax',
    path: '/',
    maxAge: cookie.maxAgeMs,
  });
}
