// The real composition root (src/main.ts) plus test-only routes, run as a child process by the process tests.
// Production never loads this file: the routes come in through createApp's deps, not through production code.
import { start } from '../../src/start.js';

await start({
  extraApiRoutes(router, { db }) {
    // One second of real database work, so that draining has in-flight queries to wait for.
    router.get('/test/slow', async (_req, res) => {
      await db.query('SELECT pg_sleep(1)');
      res.json({ slow: true });
    });
    router.get('/test/throw', () => {
      throw new Error('sentry-visible failure');
    });
  },
});
