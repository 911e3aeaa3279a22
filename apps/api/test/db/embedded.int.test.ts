import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { spawnApp, waitReady, type AppProcess } from '../support/child.js';

/** The embedded database URL the app logs at start-up (loopback, no credentials). */
function embeddedUrl(output: string): string {
  const line = output.split('\n').find((l) => l.includes('"kind":"pglite"'));
  if (!line) throw new Error(`no backends line in:\n${output}`);
  return (JSON.parse(line) as { database: { url: string } }).database.url;
}

async function stop(app: AppProcess) {
  app.child.kill('SIGTERM');
  return app.exited;
}

describe('start-up with no environment at all (embedded PGlite)', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'api-embedded-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('uses PGlite, serves /health, and keeps its data across a restart', async () => {
    const first = await spawnApp('src/main.ts', { DATA_DIR: dataDir });
    try {
      await waitReady(first, 90_000);
      const health = await fetch(`${first.base}/health`);
      expect(health.status).toBe(200);
      expect(await health.json()).toMatchObject({ status: 'ok' });
      expect(first.output()).toContain('"kind":"pglite"');
      expect(first.output()).toMatch(/"cache":"memory"/);
      expect(first.output()).toContain('"migrations applied"');
      expect(first.output()).toContain(`health: ${first.base}/health`);

      // Write through the very same wire protocol the app's pg pool uses.
      const client = new pg.Client({ connectionString: embeddedUrl(first.output()) });
      await client.connect();
      await client.query("INSERT INTO accounts (email) VALUES ('persist@example.test')");
      await client.end();
    } finally {
      const { code } = await stop(first);
      expect(code).toBe(0);
    }

    const second = await spawnApp('src/main.ts', { DATA_DIR: dataDir });
    try {
      await waitReady(second, 90_000);
      expect(second.output()).toContain('"database schema up to date"');
      const client = new pg.Client({ connectionString: embeddedUrl(second.output()) });
      await client.connect();
      const { rows } = await client.query(
        "SELECT count(*)::int AS n FROM accounts WHERE email = 'persist@example.test'",
      );
      await client.end();
      expect(rows[0].n).toBe(1);
    } finally {
      expect((await stop(second)).code).toBe(0);
    }
  }, 240_000);

  it('refuses to start in production with every missing variable named in one message', async () => {
    const app = await spawnApp('src/main.ts', { NODE_ENV: 'production', DATA_DIR: dataDir });
    const { code } = await app.exited;
    expect(code).toBe(1);
    const out = app.output();
    for (const name of [
      'DATABASE_URL',
      'FRONTEND_URL',
      'GHL_CLIENT_ID',
      'GHL_CLIENT_SECRET',
      'ENCRYPTION_KEY',
      'SESSION_SECRET',
      'STRIPE_SECRET_KEY',
      'STRIPE_WEBHOOK_SECRET',
      'INTERNAL_TOKEN',
    ]) {
      expect(out).toContain(name);
    }
    expect(out.trim().split('\n')).toHaveLength(1);
  }, 60_000);
});
