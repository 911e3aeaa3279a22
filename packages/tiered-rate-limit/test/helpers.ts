import express, { type Express, type NextFunction, type Request, type Response } from 'express';

export { listen } from '@org/test-services';

/** The reference API's shape: the limiter before auth, a general route and an analysis route. */
export function referenceApp(limiter: express.RequestHandler): Express {
  const app = express();
  app.use(limiter);
  app.get('/api/workflows', (_req, res) => {
    res.json({ success: true, data: [] });
  });
  app.post('/api/analyze', (_req, res) => {
    res.json({ success: true });
  });
  app.use((error: Error & { code?: string }, _req: Request, res: Response, _next: NextFunction) => {
    res.status(500).json({ success: false, error: { code: error.code ?? 'INTERNAL', message: error.message } });
  });
  return app;
}
