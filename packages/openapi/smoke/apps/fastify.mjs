import Fastify from 'fastify';
import { z } from 'zod';
import { defineRoute } from '@org/openapi';
import { createApi, implement } from '@org/openapi/fastify';

const getItem = defineRoute({
  method: 'get',
  path: '/items/:id',
  operationId: 'getItem',
  summary: 'Get an item',
  request: { params: z.object({ id: z.coerce.number().int().positive() }) },
  responses: { 200: { description: 'The item', body: z.object({ id: z.number() }) } },
});
const api = createApi({
  info: { title: 'Items', version: '1.0.0' },
  routes: [implement(getItem, ({ params, reply }) => reply(200, { id: params.id }))],
});
const app = Fastify();
await app.register(api.plugin, { prefix: '/api' });
await app.register(api.docsPlugin); // /openapi.json and /api-docs
await app.listen({ port: Number(process.env.PORT ?? 3000), host: '127.0.0.1' });
