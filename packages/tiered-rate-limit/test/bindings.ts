import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import express5 from 'express';
import express4 from 'express4';
import Fastify, { type FastifyRequest } from 'fastify';
import { Hono, type Context } from 'hono';
import { listen } from '@org/test-services';
import { tieredRateLimit as expressRateLimit, type RateLimitOptions as ExpressOptions } from '../src/index.js';
import type { Limiter } from '../src/index.js';
import type { RequestLimitOptions } from '../src/request-limit.js';
import { tieredRateLimit as fastifyRateLimit } from '../src/fastify/index.js';
import { tieredRateLimit as honoRateLimit } from '../src/hono/index.js';

/** What the contract's option callbacks see of a request, whatever the framework. */
export interface RequestView {
  method: string;
  path: string;
  header(name: string): string | undefined;
}

/** The options every binding accepts, with callbacks over the neutral view. */
export type ContractOptions = RequestLimitOptions<RequestView>;

export interface Started {
  url: string;
  limiter: Limiter;
  close(): Promise<void>;
}

/** One framework binding: builds the reference API (limiter first, then the routes and a JSON error handler). */
export interface Binding {
  name: string;
  start(options: ContractOptions): Promise<Started>;
}

type Fn = (view: RequestView) => unknown;
/** Rewrites the contract options' callbacks into the framework's request type. */
function adapt<Req>(options: ContractOptions, view: (req: Req) => RequestView): RequestLimitOptions<Req> {
  const wrap = (f: Fn | undefined) => (f ? (req: Req) => f(view(req)) : undefined);
  return {
    ...options,
    resolveTier: wrap(options.resolveTier as Fn) as RequestLimitOptions<Req>['resolveTier'],
    key: wrap(options.key as Fn) as RequestLimitOptions<Req>['key'],
    cost: wrap(options.cost as Fn) as RequestLimitOptions<Req>['cost'],
    skip: wrap(options.skip as Fn) as RequestLimitOptions<Req>['skip'],
    policies: typeof options.policies === 'function' ? (wrap(options.policies as Fn) as RequestLimitOptions<Req>['policies']) : options.policies,
  };
}

const errorBody = (error: Error & { code?: string }) => ({ success: false, error: { code: error.code ?? 'INTERNAL', message: error.message } });

function expressBinding(name: string, express: typeof express5): Binding {
  return {
    name,
    async start(options) {
      const view = (req: express5.Request): RequestView => ({ method: req.method, path: req.path, header: (h) => req.get(h) });
      const middleware = expressRateLimit(adapt(options, view) as ExpressOptions);
      const app = express();
      app.use(middleware);
      app.get('/api/workflows', (_req, res) => {
        res.json({ success: true, data: [] });
      });
      app.post('/api/analyze', (_req, res) => {
        res.json({ success: true });
      });
      for (const path of ['/health', '/search']) app.get(path, (_req, res) => void res.send('ok'));
      app.post('/login', (req, res) => void res.status(req.query.password === 'right' ? 200 : 401).json({ ok: req.query.password === 'right' }));
      app.use((error: Error & { code?: string }, _req: express5.Request, res: express5.Response, _next: express5.NextFunction) => {
        res.status(500).json(errorBody(error));
      });
      const server = await listen(app);
      return { url: server.url, limiter: middleware.limiter, close: async () => (await server.close(), await middleware.close()) };
    },
  };
}

const fastify: Binding = {
  name: 'Fastify 5',
  async start(options) {
    const view = (req: FastifyRequest): RequestView => ({
      method: req.method,
      path: req.url.split('?')[0]!,
      header: (h) => {
        const v = req.headers[h.toLowerCase()];
        return Array.isArray(v) ? v[0] : v;
      },
    });
    const plugin = fastifyRateLimit(adapt(options, view));
    const app = Fastify();
    await app.register(plugin);
    app.get('/api/workflows', async () => ({ success: true, data: [] }));
    app.post('/api/analyze', async () => ({ success: true }));
    for (const path of ['/health', '/search']) app.get(path, async () => 'ok');
    app.post('/login', async (req, reply) => {
      const ok = (req.query as { password?: string }).password === 'right';
      return reply.code(ok ? 200 : 401).send({ ok });
    });
    app.setErrorHandler((error: Error & { code?: string }, _req, reply) => reply.code(500).send(errorBody(error)));
    await app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = app.server.address() as AddressInfo;
    return { url: `http://127.0.0.1:${port}`, limiter: plugin.limiter, close: () => app.close() };
  },
};

const hono: Binding = {
  name: 'Hono 4',
  async start(options) {
    const view = (c: Context): RequestView => ({ method: c.req.method, path: c.req.path, header: (h) => c.req.header(h) });
    const middleware = honoRateLimit(adapt(options, view));
    const app = new Hono();
    app.use(middleware);
    app.get('/api/workflows', (c) => c.json({ success: true, data: [] }));
    app.post('/api/analyze', (c) => c.json({ success: true }));
    for (const path of ['/health', '/search']) app.get(path, (c) => c.text('ok'));
    app.post('/login', (c) => (c.req.query('password') === 'right' ? c.json({ ok: true }, 200) : c.json({ ok: false }, 401)));
    app.onError((error, c) => c.json(errorBody(error), 500));
    const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
      const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s));
    });
    const { port } = server.address() as AddressInfo;
    const close = () =>
      new Promise<void>((resolve) => {
        (server as { closeAllConnections?: () => void }).closeAllConnections?.();
        server.close(() => resolve());
      });
    return { url: `http://127.0.0.1:${port}`, limiter: middleware.limiter, close: async () => (await close(), await middleware.close()) };
  },
};

/** Every binding the contract runs against. */
export const bindings: readonly Binding[] = [expressBinding('Express 5', express5), expressBinding('Express 4', express4 as unknown as typeof express5), fastify, hono];

export const isAnalysis = (req: RequestView): boolean => req.method === 'POST' && req.path === '/api/analyze';
