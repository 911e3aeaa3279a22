// The worker entry point (`pnpm --filter api worker`, `node dist/worker.js`): the composition root in the `worker`
// role, i.e. `main.ts --role worker`. Needs REDIS_URL and DATABASE_URL.
import { start } from './main.js';

start({ role: 'worker' }).catch((error: unknown) => {
  console.error('worker failed to start:', error instanceof Error ? error.message : error);
  process.exit(1);
});
