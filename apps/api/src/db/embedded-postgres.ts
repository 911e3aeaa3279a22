import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';

/** An in-process PostgreSQL (PGlite, WebAssembly) persisted in a folder and served on a loopback port. */
export interface EmbeddedPostgres {
  /** postgres:// URL for `pg`, node-pg-migrate and psql alike. */
  readonly url: string;
  readonly dataDir: string;
  readonly version: string;
  /** Stops accepting connections and flushes the data folder. */
  close(): Promise<void>;
}

/**
 * Starts PGlite in `dataDir` behind the PostgreSQL wire protocol so the very same `pg` pool and migrations run
 * against it. PGlite is a single session: queries from all connections are serialized (the socket server keeps
 * a transaction on its connection), advisory locks and session settings are shared, and `statement_timeout`
 * is not enforced. Good for a laptop, not for production.
 */
export async function startEmbeddedPostgres(options: {
  dataDir: string;
  maxConnections?: number;
}): Promise<EmbeddedPostgres> {
  const dataDir = resolve(options.dataDir, 'pglite');
  mkdirSync(dataDir, { recursive: true });
  const db = await PGlite.create(dataDir);
  const server = new PGLiteSocketServer({
    db,
    host: '127.0.0.1',
    port: 0,
    maxConnections: options.maxConnections ?? 16,
  });
  try {
    await server.start();
  } catch (error) {
    await db.close();
    throw error;
  }
  const { rows } = await db.query<{ v: string }>("SELECT current_setting('server_version') AS v");
  let closed = false;
  return {
    url: `postgres://postgres@${server.getServerConn()}/postgres`,
    dataDir,
    version: `PGlite (PostgreSQL ${rows[0]?.v ?? 'unknown'})`,
    async close() {
      if (closed) return;
      closed = true;
      await server.stop();
      await db.close();
    },
  };
}
