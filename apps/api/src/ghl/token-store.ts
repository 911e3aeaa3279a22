import type { Database, Queryable } from '../db/database.js';
import { GhlError } from './errors.js';
import type { OAuthClient, TokenResponse } from './oauth.js';
import type { TokenCipher } from './token-crypto.js';

/** Options of `createTokenStore`. */
export interface TokenStoreOptions {
  db: Database;
  cipher: TokenCipher;
  oauth: OAuthClient;
  /** Refresh this long before the access token expires. @default 60000 */
  refreshSkewMs?: number;
}

/** Encrypted GHL OAuth tokens per location (`ghl_oauth_tokens`), with refresh serialized across processes. */
export interface TokenStore {
  /** Stores a fresh pair (install or refresh), sealed with the current key. */
  save(q: Queryable, tokens: TokenResponse & { locationId: string }): Promise<void>;
  /**
   * A valid access token for the location, refreshed first when expired (or when `rejected` is the stored one:
   * GHL answered 401 to it). One refresh per location at a time across every process sharing the database.
   */
  accessToken(locationId: string, options?: { rejected?: string }): Promise<string>;
  /** Deletes the location's tokens (UNINSTALL); returns whether a row existed. */
  remove(q: Queryable, locationId: string): Promise<boolean>;
  /** Re-seals every row sealed with a retired key under the current key; returns how many rows changed. */
  reencryptAll(): Promise<number>;
}

interface Row {
  access_token_encrypted: Buffer;
  refresh_token_encrypted: Buffer;
  key_id: string;
  expires_at: Date;
}

// The associated data binds a ciphertext to its row and column: a value copied into another location's row fails.
const aad = (locationId: string, kind: 'access' | 'refresh') => `ghl_oauth_tokens:${locationId}:${kind}`;

export function createTokenStore(options: TokenStoreOptions): TokenStore {
  const { db, cipher, oauth } = options;
  const skew = options.refreshSkewMs ?? 60_000;
  // In-process single flight: concurrent callers of one process share one refresh (and one lock wait).
  const flights = new Map<string, Promise<string>>();

  const SELECT =
    'SELECT access_token_encrypted, refresh_token_encrypted, key_id, expires_at FROM ghl_oauth_tokens WHERE location_id = $1';
  const open = (row: Row, locationId: string, kind: 'access' | 'refresh') =>
    cipher.open(
      { keyId: row.key_id, data: kind === 'access' ? row.access_token_encrypted : row.refresh_token_encrypted },
      aad(locationId, kind),
    );
  const fresh = (row: Row) => row.expires_at.getTime() - skew > Date.now();

  async function save(q: Queryable, tokens: TokenResponse & { locationId: string }) {
    const access = cipher.seal(tokens.access_token, aad(tokens.locationId, 'access'));
    const refresh = cipher.seal(tokens.refresh_token, aad(tokens.locationId, 'refresh'));
    await q.query(
      `INSERT INTO ghl_oauth_tokens (location_id, access_token_encrypted, refresh_token_encrypted, key_id, scopes, expires_at, company_id, user_id)
       VALUES ($1, $2, $3, $4, $5, now() + $6 * interval '1 second', $7, $8)
       ON CONFLICT (location_id) DO UPDATE SET access_token_encrypted = EXCLUDED.access_token_encrypted,
         refresh_token_encrypted = EXCLUDED.refresh_token_encrypted, key_id = EXCLUDED.key_id, scopes = EXCLUDED.scopes,
         expires_at = EXCLUDED.expires_at, company_id = COALESCE(EXCLUDED.company_id, ghl_oauth_tokens.company_id),
         user_id = COALESCE(EXCLUDED.user_id, ghl_oauth_tokens.user_id), updated_at = now()`,
      [
        tokens.locationId,
        access.data,
        refresh.data,
        access.keyId,
        tokens.scope.split(/\s+/).filter(Boolean),
        tokens.expires_in,
        tokens.companyId ?? null,
        tokens.userId ?? null,
      ],
    );
  }

  async function refreshLocked(locationId: string, rejected: string | undefined): Promise<string> {
    return db.transaction(async (q) => {
      // The lock wait and the token request (10 s timeout) may outlast the pool's default statement_timeout.
      await q.query("SET LOCAL statement_timeout = '30s'");
      // Serializes refreshes of this location across processes; the row is re-read under the lock because another
      // process may have rotated the pair while we waited (its refresh token is then the only live one).
      await q.query("SELECT pg_advisory_xact_lock(hashtext('ghl_token_refresh'), hashtext($1))", [locationId]);
      const { rows } = await q.query<Row>(`${SELECT} FOR UPDATE`, [locationId]);
      const row = rows[0];
      if (!row) throw new GhlError('GHL_NOT_CONNECTED', 'the location has no GHL connection (install the app again)');
      const current = open(row, locationId, 'access');
      if (fresh(row) && current !== rejected) return current;
      const tokens = await oauth.refresh(open(row, locationId, 'refresh'));
      // Persisted in this transaction, which commits before the token is handed out: no caller ever uses a pair
      // that is not stored, and the old refresh token (now dead at GHL) is gone from the database.
      await save(q, { ...tokens, locationId });
      await q.query('UPDATE ghl_oauth_tokens SET refreshed_at = now() WHERE location_id = $1', [locationId]);
      return tokens.access_token;
    });
  }

  return {
    save,
    async accessToken(locationId, opts = {}) {
      const inFlight = flights.get(locationId);
      if (inFlight) return inFlight;
      const { rows } = await db.read<Row>(SELECT, [locationId]);
      const row = rows[0];
      if (!row) throw new GhlError('GHL_NOT_CONNECTED', 'the location has no GHL connection (install the app again)');
      const current = open(row, locationId, 'access');
      if (fresh(row) && current !== opts.rejected) return current;
      const joined = flights.get(locationId);
      if (joined) return joined;
      const flight = refreshLocked(locationId, opts.rejected).finally(() => flights.delete(locationId));
      flights.set(locationId, flight);
      return flight;
    },
    async remove(q, locationId) {
      const { rowCount } = await q.query('DELETE FROM ghl_oauth_tokens WHERE location_id = $1', [locationId]);
      return (rowCount ?? 0) > 0;
    },
    async reencryptAll() {
      const { rows } = await db.query<{ location_id: string }>(
        'SELECT location_id FROM ghl_oauth_tokens WHERE key_id <> $1',
        [cipher.currentKeyId],
      );
      let changed = 0;
      for (const { location_id: locationId } of rows) {
        changed += await db.transaction(async (q) => {
          const { rows: locked } = await q.query<Row>(`${SELECT} FOR UPDATE`, [locationId]);
          const row = locked[0];
          if (!row || !cipher.isStale(row.key_id)) return 0;
          const access = cipher.seal(open(row, locationId, 'access'), aad(locationId, 'access'));
          const refresh = cipher.seal(open(row, locationId, 'refresh'), aad(locationId, 'refresh'));
          await q.query(
            'UPDATE ghl_oauth_tokens SET access_token_encrypted = $2, refresh_token_encrypted = $3, key_id = $4, updated_at = now() WHERE location_id = $1',
            [locationId, access.data, refresh.data, access.keyId],
          );
          return 1;
        });
      }
      return changed;
    },
  };
}
