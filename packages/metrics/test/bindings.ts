import type { Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { once } from 'node:events';
import { serve } from '@hono/node-server';
import express5 from 'express';
import express4 from 'express4';
import Fastify, { type FastifyInstance } from 'fastify';
import { Hono } from 'hono';
import { createMetrics, metricsHandler, type Metrics } from '../src/index.js';
import type { HttpRecorderOptions } from '../src/http/recorder.js';
import { httpMetrics as expressMetrics } from '../src/express/index.js';
import { httpMetrics as fastifyMetrics, metricsHandler as fastifyMetricsHandler } from '../src/fastify/index.js';
import { httpMetrics as honoMetrics, metricsHandler as honoMetricsHandler } from '../src/hono/index.js';

/** Options every binding takes; `exemplar` ignores the framework's request here. */
export interface ContractOptions extends HttpRecorderOptions {
  exemplar?: () => Record<string, string> | undefined;
}

/** What the slow and hanging routes call, so a test can hold a request open. */
export interface Hooks {
  /** Awaited by GET /slow before it answers. */
  slow?: () => Promise<void>;
  /** Called by GET /hang, which never answers, with a way to learn when Node closed the response. */
  hang?: (onClose: (listener: () => void) => void) => void;
}

export interface Running {
  url: string;
  metrics: Metrics;
  close(): Promise<void>;
}

/**
 * One framework binding serving the reference route table: `/metrics`, `/health`, routes under routers
 * mounted on parameter paths (`/v1/users/:id/items/:itemId`, `/v1/users/:id/fail` throws, `/v1/ping`),
 * `/orders/:orderId` (201), `/users/:id`, `/r1`..`/r4`, `/slow`, `/hang`, any method on `/any`, a 404
 * answer ('nope') and a 500 error answer ('err').
 */
export interface Binding {
  name: string;
  start(options?: ContractOptions, hooks?: Hooks, metrics?: Metrics): Promise<Running>;
}

async function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
}

function expressBinding(name: string, express: typeof express5): Binding {
  return {
    name,
    async start(options = {}, hooks = {}, metrics = createMetrics({ runtime: false })) {
      const app = express();
      app.use(expressMetrics(metrics, options));
      app.get('/metrics', metricsHandler(metrics));
      app.get('/health', (_req, res) => void res.send('ok'));
      const v1 = express.Router();
      const users = express.Router({ mergeParams: true });
      users.get('/items/:itemId', (_req, res) => void res.send('item'));
      users.get('/fail', () => {
        throw new Error('nested failure');
      });
      v1.use('/users/:id', users);
      v1.get('/ping', (_req, res) => void res.send('pong'));
      app.use('/v1', v1);
      app.get('/orders/:orderId', (_req, res) => void res.status(201).send('x'));
      app.get('/users/:id', (_req, res) => void res.send('u'));
      for (const n of [1, 2, 3, 4]) app.get(`/r${n}`, (_req, res) => void res.send('r'));
      app.get('/slow', async (_req, res) => {
        await hooks.slow?.();
        res.send('done');
      });
      app.get('/hang', (_req, res) => hooks.hang?.((l) => res.once('close', l)));
      app.all('/any', (_req, res) => void res.send('any'));
      app.use((_req, res) => void res.status(404).send('nope'));
      app.use(
        (_err: unknown, _req: express5.Request, res: express5.Response, _next: express5.NextFunction) =>
          void res.status(500).send('err'),
      );
      const server = app.listen(0, '127.0.0.1');
      await once(server, 'listening');
      return {
        url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        metrics,
        close: async () => (await closeServer(server), metrics.close()),
      };
    },
  };
}

const fastify: Binding = {
  name: 'Fastify 5',
  async start(options = {}, hooks = {}, metrics = createMetrics({ runtime: false })) {
    const app: FastifyInstance = Fastify();
    await app.register(fastifyMetrics(metrics, options));
    app.get('/metrics', fastifyMetricsHandler(metrics));
    app.get('/health', async () => 'ok');
    await app.register(
      async (v1) => {
        await v1.register(
          async (users) => {
            users.get('/items/:itemId', async () => 'item');
            users.get('/fail', async () => {
              throw new Error('nested failure');
            });
          },
          { prefix: '/users/:id' },
        );
        v1.get('/ping', async () => 'pong');
      },
      { prefix: '/v1' },
    );
    app.get('/orders/:orderId', async (_req, reply) => reply.code(201).send('x'));
    app.get('/users/:id', async () => 'u');
    for (const n of [1, 2, 3, 4]) app.get(`/r${n}`, async () => 'r');
    app.get('/slow', async () => {
      await hooks.slow?.();
      return 'done';
    });
    app.get('/hang', (_req, reply) => hooks.hang?.((l) => reply.raw.once('close', l)));
    // Fastify routes only the methods it knows; PURGE has to be declared.
    app.addHttpMethod('PURGE');
    app.all('/any', async () => 'any');
    app.setNotFoundHandler((_req, reply) => reply.code(404).send('nope'));
    app.setErrorHandler((_err, _req, reply) => reply.code(500).send('err'));
    await app.listen({ port: 0, host: '127.0.0.1' });
    return {
      url: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`,
      metrics,
      close: async () => (await app.close(), metrics.close()),
    };
  },
};

const hono: Binding = {
  name: 'Hono 4',
  async start(options = {}, hooks = {}, metrics = createMetrics({ runtime: false })) {
    const app = new Hono<{ Bindings: { outgoing: ServerResponse } }>();
    app.use(honoMetrics(metrics, options));
    app.get('/metrics', honoMetricsHandler(metrics));
    app.get('/health', (c) => c.text('ok'));
    const users = new Hono();
    users.get('/items/:itemId', (c) => c.text('item'));
    users.get('/fail', () => {
      throw new Error('nested failure');
    });
    const v1 = new Hono();
    v1.route('/users/:id', users);
    v1.get('/ping', (c) => c.text('pong'));
    app.route('/v1', v1);
    app.get('/orders/:orderId', (c) => c.text('x', 201));
    app.get('/users/:id', (c) => c.text('u'));
    for (const n of [1, 2, 3, 4]) app.get(`/r${n}`, (c) => c.text('r'));
    app.get('/slow', async (c) => {
      await hooks.slow?.();
      return c.text('done');
    });
    app.get('/hang', (c) => {
      hooks.hang?.((l) => c.env.outgoing.once('close', l));
      return new Promise<Response>(() => {});
    });
    app.all('/any', (c) => c.text('any'));
    app.notFound((c) => c.text('nope', 404));
    app.onError((_err, c) => c.text('err', 500));
    const server = await new Promise<Server>((resolve) => {
      const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s as Server));
    });
    return {
      url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      metrics,
      close: async () => (await closeServer(server), metrics.close()),
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
