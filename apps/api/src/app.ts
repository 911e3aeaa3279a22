import express, { type Express } from 'express';

/** Everything the app needs from the outside world; the app itself does no I/O at construction. */
export interface AppDeps {
  /** Reported by `/health`. */
  version: string;
}

/** Builds the Express app from its dependencies. Never listens, never reads the environment. */
export function createApp(deps: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.get('/health', (_req, res) => {
    res.json({ status: 'ok', version: deps.version });
  });
  return app;
}
