import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { serve } from '@hono/node-server';
import express from 'express';
import Fastify from 'fastify';
import { Hono } from 'hono';
import { z } from 'zod';
import { listen } from '@org/test-services';
import { bearerAuth, defineRoute, type RouteDefinition, type RouteSpec } from '../src/index.js';
import { createApiRouter, implement as implementExpress } from '../src/express/index.js';
import { createApi as createFastifyApi, implement as implementFastify } from '../src/fastify/index.js';
import { createApi as createHonoApi, implement as implementHono } from '../src/hono/index.js';
import type { ApiInput, ApiResult } from '../src/http/route-handler.js';

const Workflow = z
  .object({
    id: z.uuid(),
    name: z.string().min(1).max(120),
    steps: z.array(z.strictObject({ type: z.enum(['email', 'wait']) })).max(50),
    status: z.enum(['draft', 'active']),
  })
  .meta({ id: 'Workflow', description: 'A workflow.' });
const CreateWorkflow = z
  .strictObject({
    name: z.string().min(1).max(120),
    steps: z.array(z.strictObject({ type: z.enum(['email', 'wait']) })).max(50),
    status: z.enum(['draft', 'active']).default('draft'),
  })
  .meta({ id: 'CreateWorkflow', description: 'A new workflow; unknown fields are rejected.' });
export const WORKFLOW_ID = '3f1c2a9e-8f4b-4c1d-9a7e-2b5d6c7e8f90';
export const API_KEY = 'key_live_0123456789abcdef';

/** The reference routes every binding serves under /api, and the handlers, written once over the neutral input. */
export const routes = {
  list: defineRoute({
    method: 'get',
    path: '/workflows',
    operationId: 'listWorkflows',
    summary: 'List workflows',
    security: [],
    request: {
      query: z.strictObject({
        limit: z.coerce.number().int().min(1).max(50).default(10),
        status: z.enum(['draft', 'active']).optional(),
      }),
    },
    responses: { 200: { description: 'One page.', body: z.object({ items: z.array(Workflow) }) } },
  }),
  get: defineRoute({
    method: 'get',
    path: '/workflows/:id',
    operationId: 'getWorkflow',
    summary: 'Get a workflow',
    security: [],
    request: { params: z.object({ id: z.uuid() }) },
    responses: { 200: { description: 'The workflow.', body: Workflow } },
  }),
  create: defineRoute({
    method: 'post',
    path: '/workflows',
    operationId: 'createWorkflow',
    summary: 'Create a workflow',
    security: [],
    request: { body: CreateWorkflow },
    responses: { 201: { description: 'Created.', body: Workflow } },
  }),
  whoami: defineRoute({
    method: 'get',
    path: '/whoami',
    operationId: 'whoami',
    summary: 'The caller',
    request: { headers: z.object({ 'X-Tenant': z.string().min(3) }) },
    responses: { 200: { description: 'The tenant.', body: z.object({ tenant: z.string() }) } },
  }),
  broken: defineRoute({
    method: 'get',
    path: '/broken',
    operationId: 'broken',
    summary: 'Answers a body its schema refuses',
    security: [],
    responses: { 200: { description: 'Never valid.', body: z.object({ count: z.int() }) } },
  }),
  remove: defineRoute({
    method: 'delete',
    path: '/workflows/:id',
    operationId: 'deleteWorkflow',
    summary: 'Delete a workflow',
    security: [],
    request: { params: z.object({ id: z.uuid() }) },
    responses: { 204: { description: 'Deleted.' } },
  }),
};

type Handlers = {
  [K in keyof typeof routes]: (
    input: ApiInput<(typeof routes)[K]>,
  ) => ApiResult<(typeof routes)[K]> | Promise<ApiResult<(typeof routes)[K]>>;
};
const handlers: Handlers = {
  list: ({ query }) => ({
    status: 200,
    body: {
      items: [{ id: WORKFLOW_ID, name: 'Welcome', steps: [], status: query.status ?? 'active' }].slice(0, query.limit),
    },
  }),
  get: ({ params }) => ({
    status: 200,
    body: {
      id: params.id,
      name: 'Welcome',
      steps: [{ type: 'email' }],
      status: 'active',
      internal: 'stripped',
    } as never,
  }),
  create: ({ body }) => ({ status: 201, body: { id: WORKFLOW_ID, ...body } }),
  whoami: ({ headers }) => ({ status: 200, body: { tenant: headers['X-Tenant'] } }),
  broken: () => ({ status: 200, body: { count: 'many' } as never }),
  remove: () => ({ status: 204 }),
};

const document = {
  info: { title: 'Contract API', version: '1.0.0' },
  servers: [{ url: '/api' }],
  securitySchemes: { apiKey: bearerAuth() },
  security: [{ apiKey: [] as string[] }],
  jsonLimit: 1024,
};
const authorized = (authorization: string | undefined) => authorization === `Bearer ${API_KEY}`;
const entries = Object.keys(routes) as (keyof typeof routes)[];

export interface Running {
  url: string;
  close(): Promise<void>;
}

export interface Binding {
  name: string;
  start(): Promise<Running>;
}

type AnyHandler = (
  input: ApiInput<RouteSpec>,
) => Promise<{ status: number; body?: unknown }> | { status: number; body?: unknown };
const handlerOf = (k: keyof typeof routes) => handlers[k] as unknown as AnyHandler;
const routeOf = (k: keyof typeof routes) => routes[k] as RouteDefinition;

const express5: Binding = {
  name: 'Express 5',
  async start() {
    const api = createApiRouter({
      ...document,
      jsonLimit: document.jsonLimit,
      securityHandlers: { apiKey: (req) => authorized(req.get('authorization')) },
      routes: entries.map((k) =>
        implementExpress(routeOf(k), async (req, res) => {
          const result = await handlerOf(k)({
            params: req.params,
            query: req.query,
            headers: req.parsedHeaders,
            body: req.body,
          } as ApiInput<RouteSpec>);
          (res.reply as (status: number, body?: unknown) => void)(result.status, result.body);
        }),
      ),
    });
    const app = express();
    app.use('/api', api.router);
    app.use(api.docsRouter);
    return listen(app);
  },
};

const fastify: Binding = {
  name: 'Fastify 5',
  async start() {
    const api = createFastifyApi({
      ...document,
      securityHandlers: { apiKey: (request) => authorized(request.headers.authorization) },
      routes: entries.map((k) => implementFastify(routeOf(k), (input) => handlerOf(k)(input) as never)),
    });
    const app = Fastify();
    await app.register(api.plugin, { prefix: '/api' });
    await app.register(api.docsPlugin);
    await app.listen({ port: 0, host: '127.0.0.1' });
    return { url: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`, close: () => app.close() };
  },
};

const hono: Binding = {
  name: 'Hono 4',
  async start() {
    const api = createHonoApi({
      ...document,
      securityHandlers: { apiKey: (c) => authorized(c.req.header('authorization')) },
      routes: entries.map((k) => implementHono(routeOf(k), (input) => handlerOf(k)(input) as never)),
    });
    const app = new Hono();
    app.route('/api', api.app);
    app.route('/', api.docs);
    const server = await new Promise<Server>((resolve) => {
      const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s as Server));
    });
    return {
      url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      close: () =>
        new Promise<void>((resolve) => {
          server.closeAllConnections();
          server.close(() => resolve());
        }),
    };
  },
};

/** Every binding the contract runs against (the OpenAPI router is Express 5 only). */
export const bindings: readonly Binding[] = [express5, fastify, hono];
