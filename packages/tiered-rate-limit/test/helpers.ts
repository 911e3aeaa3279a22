import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import express, { type Express, type NextFunction, type Request, type Response } from 'express';

/** Starts `app` on 127.0.0.1:0; returns its base URL and a close function. */
export async function listen(app: Express): Promise<{ url: string; close: () => Promise<void> }> {
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

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

export const isAnalysis = (req: Request): boolean => req.method === 'POST' && req.path === '/api/analyze';
