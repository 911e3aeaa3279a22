// @org/openapi in an Express 5 app. Run: `pnpm start`, then open http://127.0.0.1:3000/api-docs.
import { randomUUID } from 'node:crypto';
import express from 'express';
import { z } from 'zod';
import { defineRoute } from '@org/openapi';
import { apiErrorHandler, createApiRouter, implement } from '@org/openapi/express';

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

const api = createApiRouter({
  info: { title: 'Todo API', version: '1.0.0' },
  servers: [{ url: '/api' }],
  routes: [
    implement(createTodo, (req, res) => {
      const todo = { id: randomUUID(), title: req.body.title, done: false };
      todos.set(todo.id, todo);
      res.reply(201, todo);
    }),
    implement(getTodo, (req, res) => {
      const todo = todos.get(req.params.id);
      if (todo === undefined) res.reply(404);
      else res.reply(200, todo);
    }),
  ],
});

const app = express().use('/api', api.router).use(api.docsRouter).use(apiErrorHandler());

const port = Number(process.env.PORT ?? 3000);
const server = app.listen(port, process.env.HOST ?? '127.0.0.1', () =>
  console.warn(`listening on http://127.0.0.1:${port}`),
);

process.on('SIGTERM', () => {
  server.close(() => process.exit(0));
});
