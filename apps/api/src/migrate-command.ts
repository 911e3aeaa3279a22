// `pnpm --filter api migrate [up|down] [count]`: runs the migrations against DATABASE_URL, or against the embedded
// database in DATA_DIR when DATABASE_URL is unset (the same rules as the server).
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { ConfigError, loadConfig } from './config/config.js';
import { createLogger } from './observability/logger.js';
import { lockDataDir } from './db/data-dir-lock.js';
import { startEmbeddedPostgres } from './db/embedded-postgres.js';
import { migrate } from './db/migrations.js';

/** Applies (`up`) or reverts (`down`) migrations; `argv` is `[direction, count]` as typed on the command line. */
export async function migrateCommand(argv: readonly string[]): Promise<void> {
  const envFile = resolve(process.env.ENV_FILE ?? '.env');
  if (existsSync(envFile)) process.loadEnvFile(envFile);
  const config = loadConfig(process.env);
  const [direction = 'up', countArg] = argv;
  if (direction !== 'up' && direction !== 'down')
    throw new Error(`unknown direction "${direction}" (expected up or down)`);
  const count = countArg === undefined ? undefined : countArg === 'all' ? Infinity : Number(countArg);
  if (count !== undefined && !(count > 0))
    throw new Error(`count must be a positive number or "all", got "${countArg}"`);
  const logger = createLogger({ level: config.logLevel });
  let release: (() => void) | undefined;
  const embedded = config.databaseUrl
    ? undefined
    : await (async () => {
        release = lockDataDir(resolve(config.dataDir));
        return startEmbeddedPostgres({ dataDir: resolve(config.dataDir) });
      })();
  try {
    const ran = await migrate({ url: config.databaseUrl ?? embedded!.url, direction, count, logger });
    logger.info({ direction, migrations: ran }, ran.length > 0 ? `migrated ${direction}` : 'nothing to migrate');
  } finally {
    await embedded?.close();
    release?.();
  }
}

/** Runs `migrateCommand` as a process entry point: exit 1 with the reason on stderr when it fails. */
export function runMigrateCommand(argv: readonly string[] = process.argv.slice(2)): void {
  migrateCommand(argv).catch((error: unknown) => {
    console.error(
      error instanceof ConfigError
        ? error.message
        : `migrate failed: ${error instanceof Error ? error.message : String(error)}`,
    );
    process.exit(1);
  });
}
