// The worker process: `pnpm --filter api start:worker`, `node dist/worker.js` (start.ts in the `worker` role).
// Needs REDIS_URL and DATABASE_URL.
import { runEntry } from './start.js';

runEntry({ role: 'worker' });
