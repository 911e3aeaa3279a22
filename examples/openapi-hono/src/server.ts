// @org/openapi in a Hono 4 app on @hono/node-server. Run: `pnpm start`, then open http://127.0.0.1:3000/api-docs.
import { randomUUID } from 'node:crypto';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { z } from 'zod';
import { defineRoute } from '@org/openapi';
import { createApi, implement } from '@org/openapi/hono';

const Todo = z
  .object({ id: z.uuid(), title: z.string(), done: z.boolean() })
  .meta({ id: 'Todo', description: 'A todo item.' });
const todos = new Map<string, z.infer<typeof Todo>>();

const createTodo = defineRoute({
  method: 'post',
  path: '/todos',
  operationId: 'createTodo',
  summary: 'Create a todo',
  description: 'Adds a todo item.',
  request: { body: z.strictObject({ title: z.string().min(1).max(200) }) },
  responses: { 201: { description: 'The new todo.', body: Todo } },
});
const getTodo = defineRoute({
  method: 'get',
  path: '/todos/:id',
  operationId: 'getTodo',
  summary: 'Get a todo',
  description: 'One todo by id.',
  request: { params: z.object({ id: z.uuid() }) },
  responses: { 200: { description: 'The todo.', body: Todo }, 404: { description: 'No such todo.' } },
});

// Handlers receive the validated, typed input and return `reply(status, body)`: only documented answers type-check.
const api = createApi({
  info: { title: 'Todo API', version: '1.0.0' },
  servers: [{ url: '/api' }],
  routes: [
    implement(createTodo, ({ body, reply }) => {
      const todo = { id: randomUUID(), title: body.title, done: false };
      todos.set(todo.id, todo);
      return reply(201, todo);
    }),
    implement(getTodo, ({ params, reply }) => {
      const todo = todos.get(params.id);
      return todo === undefined ? reply(404) : reply(200, todo);
    }),
  ],
});

const app = new Hono();
app.route('/api', api.app);
app.route('/', api.docs); // /openapi.json and /api-docs

const port = Number(process.env.PORT ?? 3000);
const server = serve({ fetch: app.fetch, port, hostname: process.env.HOST ?? '127.0.0.1' }, () =>
  console.warn(`listening on http://127.0.0.1:${port}`),
);

process.on('SIGTERM', () => {
  server.close(() => process.exit(0));
});
