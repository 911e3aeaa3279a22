import { z } from 'zod';
import { OpenApiError, createOpenApi, defineRoute, type OpenApi } from '@org/openapi';
import { createApiRouter, implement, type ApiRouter } from '@org/openapi/express';
import type { FastifyRequest } from 'fastify';
import type { Context } from 'hono';
import { createApi as createFastifyApi, implement as implementFastify, type FastifyApi } from '@org/openapi/fastify';
import { createApi as createHonoApi, implement as implementHono, type HonoApi } from '@org/openapi/hono';

const error: OpenApiError = new OpenApiError('boom', { code: 'X' });
export const code: string = error.code;

const route = defineRoute({
  method: 'get',
  path: '/items/:id',
  operationId: 'getItem',
  summary: 'Get an item',
  request: { params: z.object({ id: z.coerce.number() }), query: z.object({ q: z.string().optional() }) },
  responses: {
    200: { description: 'The item', body: z.object({ id: z.number(), q: z.string().nullable() }) },
    204: { description: 'Nothing' },
  },
});
export const openapi: OpenApi = createOpenApi({ info: { title: 'T', version: '1' }, routes: [route] });
export const api: ApiRouter = createApiRouter({
  info: { title: 'T', version: '1' },
  routes: [
    implement(route, (req, res) => {
      const id: number = req.params.id;
      const q: string | undefined = req.query.q;
      if (id === 0) return res.reply(204);
      // @ts-expect-error 201 is not a documented status
      if (id === 1) return res.reply(201, { id, q: null });
      // @ts-expect-error the body must match the 200 schema
      if (id === 2) return res.reply(200, { id: 'x', q: null });
      res.reply(200, { id, q: q ?? null });
    }),
  ],
});

export const fastifyApi: FastifyApi = createFastifyApi({
  info: { title: 'T', version: '1' },
  routes: [
    implementFastify(route, ({ params, query, reply }, request: FastifyRequest) => {
      void request;
      return params.id === 0 ? reply(204) : reply(200, { id: params.id, q: query.q ?? null });
    }),
  ],
});
export const honoApi: HonoApi = createHonoApi({
  info: { title: 'T', version: '1' },
  routes: [
    implementHono(route, async ({ params, reply }, c: Context) =>
      reply(200, { id: params.id, q: c.req.query('q') ?? null }),
    ),
  ],
});
// @ts-expect-error 201 is not a documented status
export const undocumented = implementFastify(route, ({ reply }) => reply(201, { id: 1, q: null }));
// @ts-expect-error the body must match the 200 schema
export const wrongBody = implementHono(route, ({ reply }) => reply(200, { id: 'x', q: null }));
