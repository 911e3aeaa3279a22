import pg from 'pg';
import type { Logger } from 'pino';
import { DatabaseUnavailableError, classifyDatabaseError, isConnectionError } from './errors.js';

/** Options of `createDatabase`. */
export interface DatabaseOptions {
  /** postgres:// connection string. */
  url: string;
  /** Pool size. @default 10 */
  max?: number;
  /** Requests allowed to wait for a pooled connection before new ones are refused with DATABASE_BUSY. @default 50 */
  maxWaiting?: number;
  /** How long a request may wait for a connection (new or pooled). @default 2000 */
  connectionTimeoutMs?: number;
  /** Server-side `statement_timeout` for every connection. @default 5000 */
  statementTimeoutMs?: number;
  /** Shown in `pg_stat_activity.application_name`. @default 'api' */
  applicationName?: string;
  logger: Logger;
  /**
   * Called after every query with its duration and outcome: the one place where query metrics (@org/metrics)
   * attach. Must not throw. @default none
   */
  onQuery?: (event: QueryEvent) => void;
}

/** One finished query, for metrics. `outcome` is the DatabaseUnavailableError code, `error` for other failures. */
export interface QueryEvent {
  durationMs: number;
  outcome: 'ok' | 'error' | 'DATABASE_UNAVAILABLE' | 'DATABASE_BUSY' | 'DATABASE_TIMEOUT';
}

/** What queries see: `query` only; the pool itself stays inside. */
export interface Queryable {
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values?: unknown[]): Promise<pg.QueryResult<R>>;
}

export interface Database extends Queryable {
  /**
   * Runs an idempotent read; retried once when the first attempt hit a connection that died (57P01/08xxx),
   * which happens to the first query after a server restart.
   */
  read<R extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values?: unknown[]): Promise<pg.QueryResult<R>>;
  /** Runs `fn` in a transaction on one connection; rolls back on error. */
  transaction<T>(fn: (client: Queryable) => Promise<T>): Promise<T>;
  /** `SELECT 1` bounded by `timeoutMs`; never throws. */
  ping(timeoutMs: number): Promise<boolean>;
  stats(): { total: number; idle: number; waiting: number; max: number };
  /** The pool, for migrations and tests. */
  readonly pool: pg.Pool;
  /** Ends every connection; resolves when all are closed. */
  close(): Promise<void>;
}

/** Creates the one pg.Pool of the process with the safety settings node-postgres leaves off by default. */
export function createDatabase(options: DatabaseOptions): Database {
  const { logger, maxWaiting = 50 } = options;
  const max = options.max ?? 10;
  const pool = new pg.Pool({
    connectionString: options.url,
    max,
    connectionTimeoutMillis: options.connectionTimeoutMs ?? 2_000,
    statement_timeout: options.statementTimeoutMs ?? 5_000,
    idleTimeoutMillis: 10_000,
    application_name: options.applicationName ?? 'api',
  });
  // Without a listener, an idle client killed by the server (57P01 on restart or pg_terminate_backend) crashes the
  // process with an unhandled 'error' event; the pool already discards the client, so logging is all that is left.
  pool.on('error', (error) => {
    logger.warn(
      { err: { message: error.message, code: (error as { code?: string }).code } },
      'idle database connection lost',
    );
  });

  const observe = (started: number, error?: unknown) => {
    if (!options.onQuery) return;
    const outcome = error === undefined ? 'ok' : error instanceof DatabaseUnavailableError ? error.code : 'error';
    options.onQuery({ durationMs: performance.now() - started, outcome });
  };

  const admit = () => {
    // pg.Pool queues without bound; refuse early so an overloaded database sheds load instead of piling up requests.
    if (pool.totalCount >= max && pool.idleCount === 0 && pool.waitingCount >= maxWaiting) {
      throw new DatabaseUnavailableError('DATABASE_BUSY', 'The database is busy');
    }
  };

  const run = async <R extends pg.QueryResultRow>(
    text: string,
    values: unknown[] | undefined,
    retryOnConnectionError: boolean,
  ): Promise<pg.QueryResult<R>> => {
    const started = performance.now();
    try {
      admit();
      const result = await pool.query<R>(text, values);
      observe(started);
      return result;
    } catch (error) {
      // An idle connection the server killed fails the first statement sent on it; a read is safe to send once more.
      if (retryOnConnectionError && isConnectionError(error)) return run<R>(text, values, false);
      const mapped = classifyDatabaseError(error);
      observe(started, mapped);
      throw mapped;
    }
  };
  const query = <R extends pg.QueryResultRow>(text: string, values?: unknown[]) => run<R>(text, values, false);

  return {
    pool,
    query,
    read<R extends pg.QueryResultRow>(text: string, values?: unknown[]) {
      return run<R>(text, values, true);
    },
    async transaction(fn) {
      admit();
      let client: pg.PoolClient;
      try {
        client = await pool.connect();
      } catch (error) {
        throw classifyDatabaseError(error);
      }
      let broken = false;
      // A checked-out client has no pool listener: a server that dies between two statements of the transaction
      // would emit an unhandled 'error' and crash the process. Mark the client broken instead; the next query fails.
      const onClientError = () => {
        broken = true;
      };
      client.on('error', onClientError);
      const scoped: Queryable = {
        async query<R extends pg.QueryResultRow>(text: string, values?: unknown[]) {
          try {
            return await client.query<R>(text, values);
          } catch (error) {
            if (isConnectionError(error)) broken = true;
            throw classifyDatabaseError(error);
          }
        },
      };
      try {
        await scoped.query('BEGIN');
        const result = await fn(scoped);
        await scoped.query('COMMIT');
        return result;
      } catch (error) {
        if (!broken) await client.query('ROLLBACK').catch(() => (broken = true));
        throw error;
      } finally {
        client.off('error', onClientError);
        client.release(broken);
      }
    },
    async ping(timeoutMs) {
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), timeoutMs);
      });
      const probe = pool.query('SELECT 1').then(
        () => true,
        () => false,
      );
      try {
        return await Promise.race([probe, deadline]);
      } finally {
        clearTimeout(timer);
      }
    },
    stats: () => ({ total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount, max }),
    async close() {
      await pool.end();
    },
  };
}
