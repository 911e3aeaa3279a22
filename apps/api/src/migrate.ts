// `pnpm --filter api migrate [up|down] [count]`, `node dist/migrate.js`. The command lives in db/migrate-command.ts.
import { runMigrateCommand } from './db/migrate-command.js';

runMigrateCommand();
