import { fileURLToPath } from 'node:url';
import { runner } from 'node-pg-migrate';
import type pg from 'pg';
import type { Logger } from 'pino';

/** apps/api/migrations, found from src/db (tsx) and from dist (built) alike. */
export const MIGRATIONS_DIR = fileURLToPath(
  new URL(import.meta.url.includes('/dist/') ? '../migrations' : '../../migrations', import.meta.url),
);
export const MIGRATIONS_TABLE = 'pgmigrations';

/** Options of `migrate`. */
export interface MigrateOptions {
  /** postgres:// URL; the runner opens and closes its own connection. */
  url: string;
  /** @default 'up' */
  direction?: 'up' | 'down';
  /** How many migrations to run; `down` defaults to 1 as node-pg-migrate does. @default Infinity for up */
  count?: number;
  logger?: Logger;
}

/**
 * Runs the SQL migrations. Two instances starting at once are safe: the runner takes a PostgreSQL advisory lock and
 * the second one waits for it (instead of failing), then finds nothing left to do.
 */
export async function migrate(options: MigrateOptions): Promise<string[]> {
  const direction = options.direction ?? 'up';
  const ran = await runner({
    databaseUrl: options.url,
    dir: MIGRATIONS_DIR,
    migrationsTable: MIGRATIONS_TABLE,
    direction,
    count: options.count ?? (direction === 'up' ? Infinity : 1),
    advisoryLockMode: 'wait',
    checkOrder: true,
    // node-pg-migrate's logger prints every SQL statement; route its chatter to debug.
    logger: {
      debug: (msg: string) => options.logger?.debug(msg),
      info: (msg: string) => options.logger?.debug(msg),
      warn: (msg: string) => options.logger?.warn(msg),
      error: (msg: string) => options.logger?.error(msg),
    },
  });
  return ran.map((m) => m.name);
}

/** Names of the applied migrations, oldest first; empty when none ran yet. */
export async function appliedMigrations(db: { query: (text: string) => Promise<pg.QueryResult> }): Promise<string[]> {
  const exists = await db.query(`SELECT to_regclass('public.${MIGRATIONS_TABLE}') IS NOT NULL AS present`);
  if (!exists.rows[0]?.present) return [];
  const { rows } = await db.query(`SELECT name FROM ${MIGRATIONS_TABLE} ORDER BY run_on, id`);
  return rows.map((r: { name: string }) => r.name);
}
