import express from 'express';
import { z } from 'zod';
import { defineRoute } from '@org/openapi';
import { createApiRouter, implement } from '@org/openapi/express';

const getItem = defineRoute({
  method: 'get',
  path: '/items/:id',
  operationId: 'getItem',
  summary: 'Get an item',
  request: { params: z.object({ id: z.coerce.number().int().positive() }) },
  responses: { 200: { description: 'The item', body: z.object({ id: z.number() }) } },
});
const api = createApiRouter({
  info: { title: 'Items', version: '1.0.0' },
  routes: [implement(getItem, (req, res) => res.reply(200, { id: req.params.id }))],
});
const app = express();
app.use('/api', api.router);
app.use(api.docsRouter); // /openapi.json and /api-docs
app.listen(Number(process.env.PORT ?? 3000), '127.0.0.1');
