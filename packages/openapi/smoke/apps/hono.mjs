import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { z } from 'zod';
import { defineRoute } from '@org/openapi';
import { createApi, implement } from '@org/openapi/hono';

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
const app = new Hono();
app.route('/api', api.app);
app.route('/', api.docs); // /openapi.json and /api-docs
serve({ fetch: app.fetch, port: Number(process.env.PORT ?? 3000), hostname: '127.0.0.1' });
