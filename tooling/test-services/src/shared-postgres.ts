import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { unavailable } from './availability.js';

/** The machine's shared PostgreSQL, as `DATABASE_URL` names it. */
export const sharedPostgresUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** One test file's own database on the shared server, dropped by `cleanup()`. */
export interface SharedPostgres {
  /** Connection string of the fresh database. */
  url: string;
  database: string;
  /** A pool on the fresh database, owned by this handle. */
  pool: pg.Pool;
  /** Drops the database (terminating any connection left open) and ends the pool. */
  cleanup(): Promise<void>;
}

function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

/** Whether the shared PostgreSQL answers (under CI a failure throws instead). */
export async function hasSharedPostgres(): Promise<boolean> {
  const client = new pg.Client({ connectionString: sharedPostgresUrl, connectionTimeoutMillis: 2_000 });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch (error) {
    return unavailable('PostgreSQL', `no answer from ${new URL(sharedPostgresUrl).host} (set DATABASE_URL)`, error);
  } finally {
    await client.end().catch(() => {});
  }
}

/** Creates a fresh database on the shared server for this test file. */
export async function sharedPostgres(name = 'test'): Promise<SharedPostgres> {
  const database = `t_${name.replace(/[^a-z0-9_]/gi, '_').toLowerCase()}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: sharedPostgresUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE "${database}"`);
  } finally {
    await admin.end();
  }
  const url = withDatabase(sharedPostgresUrl, database);
  const pool = new pg.Pool({ connectionString: url, max: 5 });
  pool.on('error', () => {});
  return {
    url,
    database,
    pool,
    async cleanup() {
      await pool.end().catch(() => {});
      const dropper = new pg.Client({ connectionString: sharedPostgresUrl });
      await dropper.connect();
      try {
        await dropper.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
      } finally {
        await dropper.end();
      }
    },
  };
}
