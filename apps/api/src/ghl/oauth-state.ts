import type { Queryable } from '../db/database.js';
import { randomToken, sha256 } from '../auth/tokens.js';

/** OAuth `state` values kept server-side: random, hashed at rest, short-lived, usable once. */
export interface OAuthStateStore {
  create(): Promise<string>;
  /** True once for a state that exists and has not expired; it is deleted in the same statement. */
  consume(state: string): Promise<boolean>;
}

export function createOAuthStateStore(db: Queryable, ttlMs = 10 * 60_000): OAuthStateStore {
  return {
    async create() {
      const state = randomToken(24);
      // Expired states are swept on the way, so the table stays small without a job.
      await db.query("DELETE FROM ghl_oauth_states WHERE expires_at < now() - interval '1 hour'");
      await db.query(
        "INSERT INTO ghl_oauth_states (state_hash, expires_at) VALUES ($1, now() + $2 * interval '1 millisecond')",
        [sha256(state), ttlMs],
      );
      return state;
    },
    async consume(state) {
      if (!/^[A-Za-z0-9_-]{16,128}$/.test(state)) return false;
      const { rows } = await db.query(
        'DELETE FROM ghl_oauth_states WHERE state_hash = $1 RETURNING expires_at > now() AS valid',
        [sha256(state)],
      );
      return rows[0]?.valid === true;
    },
  };
}
