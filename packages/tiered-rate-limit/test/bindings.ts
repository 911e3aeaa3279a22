import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import express5 from 'express';
import express4 from 'express4';
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify';
import { Hono, type Context } from 'hono';
import { listen } from '@org/test-services';
import { tieredRateLimit as expressRateLimit, type RateLimitOptions as ExpressOptions } from '../src/index.js';
import type { Limiter, RateLimited } from '../src/index.js';
import type { RequestLimitOptions } from '../src/types.js';
import { tieredRateLimit as fastifyRateLimit } from '../src/fastify/index.js';
import { tieredRateLimit as honoRateLimit } from '../src/hono/index.js';

/** What the contract's option callbacks see of a request, whatever the framework. */
export interface RequestView {
  method: string;
  path: string;
  header(name: string): string | undefined;
}

/** What the contract's `handler` answers, sent by each binding in its own way. */
export interface HandlerAnswer {
  status: number;
  body: unknown;
}

/** The options every binding accepts, with callbacks over the neutral view. */
export type ContractOptions = RequestLimitOptions<RequestView> & {
  handler?: (req: RequestView, limited: RateLimited) => HandlerAnswer;
};

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
  const { handler: _handler, ...rest } = options;
  return {
    ...rest,
    resolveTier: wrap(options.resolveTier as Fn) as RequestLimitOptions<Req>['resolveTier'],
    key: wrap(options.key as Fn) as RequestLimitOptions<Req>['key'],
    cost: wrap(options.cost as Fn) as RequestLimitOptions<Req>['cost'],
    skip: wrap(options.skip as Fn) as RequestLimitOptions<Req>['skip'],
    policies:
      typeof options.policies === 'function'
        ? (wrap(options.policies as Fn) as RequestLimitOptions<Req>['policies'])
        : options.policies,
  };
}

const errorBody = (error: Error & { code?: string }) => ({
  success: false,
  error: { code: error.code ?? 'INTERNAL', message: error.message },
});

function expressBinding(name: string, express: typeof express5): Binding {
  return {
    name,
    async start(options) {
      const view = (req: express5.Request): RequestView => ({
        method: req.method,
        path: req.path,
        header: (h) => req.get(h),
      });
      const { handler } = options;
      const middleware = expressRateLimit({
        ...(adapt(options, view) as ExpressOptions),
        ...(handler && {
          handler: (
            req: express5.Request,
            res: express5.Response,
            _next: express5.NextFunction,
            limited: RateLimited,
          ) => {
            const answer = handler(view(req), limited);
            res.status(answer.status).json(answer.body);
          },
        }),
      });
      const app = express();
      app.use(middleware);
      app.get('/api/workflows', (_req, res) => {
        res.json({ success: true, data: [] });
      });
      app.post('/api/analyze', (_req, res) => {
        res.json({ success: true });
      });
      for (const path of ['/health', '/search']) app.get(path, (_req, res) => void res.send('ok'));
      app.post(
        '/login',
        (req, res) =>
          void res.status(req.query.password === 'right' ? 200 : 401).json({ ok: req.query.password === 'right' }),
      );
      app.use(
        (
          error: Error & { code?: string },
          _req: express5.Request,
          res: express5.Response,
          _next: express5.NextFunction,
        ) => {
          res.status(500).json(errorBody(error));
        },
      );
      const server = await listen(app);
      return {
        url: server.url,
        limiter: middleware.limiter,
        close: async () => (await server.close(), await middleware.close()),
      };
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
    const { handler } = options;
    const plugin = fastifyRateLimit({
      ...adapt(options, view),
      ...(handler && {
        handler: (req: FastifyRequest, reply: FastifyReply, limited: RateLimited) => {
          const answer = handler(view(req), limited);
          return reply.code(answer.status).send(answer.body);
        },
      }),
    });
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
    const view = (c: Context): RequestView => ({
      method: c.req.method,
      path: c.req.path,
      header: (h) => c.req.header(h),
    });
    const { handler } = options;
    const middleware = honoRateLimit({
      ...adapt(options, view),
      ...(handler && {
        handler: (c: Context, limited: RateLimited) => {
          const answer = handler(view(c), limited);
          return c.json(answer.body as object, answer.status as 429);
        },
      }),
    });
    const app = new Hono();
    app.use(middleware);
    app.get('/api/workflows', (c) => c.json({ success: true, data: [] }));
    app.post('/api/analyze', (c) => c.json({ success: true }));
    for (const path of ['/health', '/search']) app.get(path, (c) => c.text('ok'));
    app.post('/login', (c) =>
      c.req.query('password') === 'right' ? c.json({ ok: true }, 200) : c.json({ ok: false }, 401),
    );
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
    return {
      url: `http://127.0.0.1:${port}`,
      limiter: middleware.limiter,
      close: async () => (await close(), await middleware.close()),
    };
  },
};

/** Every binding the contract runs against. */
export const bindings: readonly Binding[] = [
  expressBinding('Express 5', express5),
  expressBinding('Express 4', express4 as unknown as typeof express5),
  fastify,
  hono,
];

export const isAnalysis = (req: RequestView): boolean => req.method === 'POST' && req.path === '/api/analyze';
