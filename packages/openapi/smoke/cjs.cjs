const assert = require('node:assert/strict');
const { z } = require('zod');
const { OpenApiError, createOpenApi, defineRoute } = require('@org/openapi');
const { createApiRouter, implement } = require('@org/openapi/express');

const error = new OpenApiError('boom');
assert.equal(error.code, 'OPENAPI_ERROR');

const route = defineRoute({
  method: 'post',
  path: '/items',
  operationId: 'createItem',
  summary: 'Create an item',
  request: { body: z.strictObject({ name: z.string() }) },
  responses: { 201: { description: 'Created', body: z.object({ name: z.string() }) } },
});
const { document } = createOpenApi({ info: { title: 'Smoke', version: '1.0.0' }, openapi: '3.0.3', routes: [route] });
assert.equal(document.openapi, '3.0.3');
const api = createApiRouter({
  info: { title: 'Smoke', version: '1.0.0' },
  routes: [implement(route, (req, res) => res.reply(201, req.body))],
});
assert.equal(typeof api.router, 'function');
for (const sub of ['fastify', 'hono']) {
  const binding = require(`@org/openapi/${sub}`);
  const made = binding.createApi({
    info: { title: 'Smoke', version: '1.0.0' },
    openapi: '3.0.3',
    routes: [binding.implement(route, ({ body, reply }) => reply(201, body))],
  });
  assert.equal(made.openapi.document.openapi, '3.0.3');
}
console.log('cjs ok');
