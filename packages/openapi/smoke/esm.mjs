import assert from 'node:assert/strict';
import express from 'express';
import { z } from 'zod';
import { OpenApiError, createOpenApi, defineRoute } from '@org/openapi';
import { createApiRouter, implement } from '@org/openapi/express';

const error = new OpenApiError('boom', { cause: new Error('root') });
assert.equal(error.code, 'OPENAPI_ERROR');
assert.ok(error.cause instanceof Error);

const route = defineRoute({
  method: 'get',
  path: '/items/:id',
  operationId: 'getItem',
  summary: 'Get an item',
  request: { params: z.object({ id: z.string() }) },
  responses: { 200: { description: 'The item', body: z.object({ id: z.string() }) } },
});
const doc = createOpenApi({ info: { title: 'Smoke', version: '1.0.0' }, routes: [route] }).document;
assert.equal(doc.openapi, '3.1.0');
assert.ok(doc.paths['/items/{id}'].get);

const api = createApiRouter({
  info: { title: 'Smoke', version: '1.0.0' },
  routes: [implement(route, (req, res) => res.reply(200, { id: req.params.id }))],
});
const app = express().use('/api', api.router).use(api.docsRouter);
const server = app.listen(0, '127.0.0.1');
await new Promise((resolve) => server.once('listening', resolve));
const base = `http://127.0.0.1:${server.address().port}`;
assert.deepEqual(await (await fetch(`${base}/api/items/7`)).json(), { id: '7' });
const page = await fetch(`${base}/api-docs/swagger-ui-bundle.js`);
assert.equal(page.status, 200);
server.close();
for (const sub of ['fastify', 'hono']) {
  const binding = await import(`@org/openapi/${sub}`);
  const made = binding.createApi({
    info: { title: 'Smoke', version: '1.0.0' },
    routes: [binding.implement(route, ({ params, reply }) => reply(200, { id: params.id }))],
  });
  assert.equal(made.openapi.json, api.openapi.json);
}
console.log('esm ok');
