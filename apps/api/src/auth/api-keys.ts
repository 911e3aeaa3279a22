import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Cache } from '@org/cache';
import type { Queryable } from '../db/database.js';
import { NegativeCache, singleFlight } from './negative-cache.js';
import { principalCache } from './principal-cache.js';
import type { Principal } from './principal.js';
import { randomToken, sha256 } from './tokens.js';

/** `ak_<prefix>_<secret>_<tag>`: an 8-character prefix, 256 random bits, and a 132-bit HMAC tag of the rest. */
const KEY_FORMAT = /^(ak_[A-Za-z0-9]{8}_[A-Za-z0-9_-]{43})_([A-Za-z0-9_-]{22})$/;
const TAG_LENGTH = 22;

/** Scopes a key can hold; a route that needs one refuses keys without it (sessions hold every scope). */
export const API_KEY_SCOPES = ['analysis', 'billing'] as const;
export type ApiKeyScope = (typeof API_KEY_SCOPES)[number];

/** Hashed API keys for service-to-service calls (`Authorization: Bearer ak_...`). */
export interface ApiKeyStore {
  /** Creates a key; the plaintext is returned once and never stored. @default scopes ['analysis'] */
  create(input: {
    accountId: string;
    locationId: string | null;
    name: string;
    scopes?: ApiKeyScope[];
  }): Promise<{ id: string; key: string; prefix: string }>;
  verify(key: string): Promise<Principal | undefined>;
  revoke(id: string): Promise<void>;
}

/**
 * API keys are self-verifying: the last part is an HMAC tag under a key derived from the server secret, so a forged or
 * mistyped key is refused without a query, and a key that was real but is no longer (unknown, revoked, expired) is
 * remembered for a minute. Only well-tagged keys that are not known to be dead reach the database. With `cache`, a live
 * key is remembered for 30 s (src/auth/principal-cache.ts): revoking it forgets it in every instance sharing the cache.
 */
export function createApiKeyStore(db: Queryable, serverSecret: string, options: { cache?: Cache } = {}): ApiKeyStore {
  const principals = options.cache ? principalCache(options.cache) : undefined;
  const tagKey = createHmac('sha256', serverSecret).update('api-key-tag/v1').digest();
  const tagOf = (body: string) => createHmac('sha256', tagKey).update(body).digest('base64url').slice(0, TAG_LENGTH);
  const dead = new NegativeCache();
  const once = singleFlight<Principal | undefined>();
  return {
    async create({ accountId, locationId, name, scopes = ['analysis'] }) {
      const prefix = randomToken(6)
        .replace(/[^A-Za-z0-9]/g, 'x')
        .slice(0, 8);
      const body = `ak_${prefix}_${randomToken(32)}`;
      const key = `${body}_${tagOf(body)}`;
      const { rows } = await db.query<{ id: string }>(
        'INSERT INTO api_keys (account_id, location_id, name, prefix, key_hash, scopes) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id',
        [accountId, locationId, name, prefix, sha256(key), scopes],
      );
      return { id: rows[0]!.id, key, prefix };
    },
    async verify(key) {
      const match = KEY_FORMAT.exec(key);
      if (!match) return undefined;
      const expected = Buffer.from(tagOf(match[1]!));
      const given = Buffer.from(match[2]!);
      // Forged keys stop here, without a query; the comparison is constant-time.
      if (!timingSafeEqual(expected, given)) return undefined;
      const hash = sha256(key);
      const cacheKey = hash.toString('base64url');
      if (dead.has(cacheKey)) return undefined;
      const known = await principals?.get('api-key', cacheKey);
      if (known) return known;
      return once(cacheKey, async () => {
        const { rows } = await db.query<{
          account_id: string;
          location_id: string | null;
          scopes: string[];
          expires_at: Date | null;
        }>(
          `WITH touched AS (
             UPDATE api_keys SET last_used_at = now()
              WHERE key_hash = $1 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())
                AND (last_used_at IS NULL OR last_used_at < now() - interval '5 minutes'))
           SELECT account_id, location_id, scopes, expires_at FROM api_keys
            WHERE key_hash = $1 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())`,
          [hash],
        );
        const row = rows[0];
        if (!row) {
          dead.add(cacheKey);
          return undefined;
        }
        const principal = {
          kind: 'api-key',
          accountId: row.account_id,
          locationId: row.location_id,
          scopes: row.scopes ?? [],
        } satisfies Principal;
        await principals?.set(principal, cacheKey, row.expires_at);
        return principal;
      });
    },
    async revoke(id) {
      const { rows } = await db.query<{ key_hash: Buffer }>(
        'UPDATE api_keys SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL RETURNING key_hash',
        [id],
      );
      for (const row of rows) {
        dead.add(row.key_hash.toString('base64url'));
        await principals?.forget('api-key', row.key_hash.toString('base64url'));
      }
    },
  };
}
