import type { Queryable } from '../db/database.js';
import type { Principal } from './sessions.js';
import { randomToken, sha256 } from './tokens.js';

const KEY_FORMAT = /^ak_([A-Za-z0-9]{8})_([A-Za-z0-9_-]{43})$/;

/** Hashed API keys for service-to-service calls (`Authorization: Bearer ak_...`). */
export interface ApiKeyStore {
  /** Creates a key; the plaintext is returned once and never stored. */
  create(input: { accountId: string; locationId: string | null; name: string; scopes?: string[] }): Promise<{ id: string; key: string; prefix: string }>;
  verify(key: string): Promise<Principal | undefined>;
  revoke(id: string): Promise<void>;
}

export function createApiKeyStore(db: Queryable): ApiKeyStore {
  return {
    async create({ accountId, locationId, name, scopes = [] }) {
      const prefix = randomToken(6).replace(/[^A-Za-z0-9]/g, 'x').slice(0, 8);
      const key = `ak_${prefix}_${randomToken(32)}`;
      const { rows } = await db.query<{ id: string }>(
        'INSERT INTO api_keys (account_id, location_id, name, prefix, key_hash, scopes) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id',
        [accountId, locationId, name, prefix, sha256(key), scopes],
      );
      return { id: rows[0]!.id, key, prefix };
    },
    async verify(key) {
      // Malformed keys are refused without a query: no database work for garbage.
      if (!KEY_FORMAT.test(key)) return undefined;
      const { rows } = await db.query<{ account_id: string; location_id: string | null }>(
        `WITH touched AS (
           UPDATE api_keys SET last_used_at = now()
            WHERE key_hash = $1 AND (last_used_at IS NULL OR last_used_at < now() - interval '5 minutes'))
         SELECT account_id, location_id FROM api_keys
          WHERE key_hash = $1 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())`,
        [sha256(key)],
      );
      const row = rows[0];
      return row ? { kind: 'api-key', accountId: row.account_id, locationId: row.location_id } : undefined;
    },
    async revoke(id) {
      await db.query('UPDATE api_keys SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL', [id]);
    },
  };
}
