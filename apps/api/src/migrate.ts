// `pnpm --filter api migrate [up|down] [count]`, `node dist/migrate.js`. The command lives in migrate-command.ts.
import { runMigrateCommand } from './migrate-command.js';

runMigrateCommand();
