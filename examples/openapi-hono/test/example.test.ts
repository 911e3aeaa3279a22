import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServerProcess, type ServerProcess } from '@org/test-services';

// Starts the example the way its header says (`pnpm start`'s command) and talks to it over HTTP.
let server: ServerProcess;

beforeAll(async () => {
  server = await startServerProcess(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    cwd: join(import.meta.dirname, '..'),
    readyPath: '/openapi.json',
  });
});

afterAll(async () => {
  expect(await server?.stop()).toBe(0);
});

const post = (body: unknown) =>
  fetch(`${server.url}/api/todos`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });

describe('openapi-hono example', () => {
  it('serves the OpenAPI document built from the route schemas', async () => {
    const doc = (await (await fetch(`${server.url}/openapi.json`)).json()) as {
      openapi: string;
      paths: Record<string, Record<string, { operationId: string }>>;
    };
    expect(doc.openapi).toMatch(/^3\./);
    expect(doc.paths['/todos']?.post?.operationId).toBe('createTodo');
    expect(doc.paths['/todos/{id}']?.get?.operationId).toBe('getTodo');
    const docs = await fetch(`${server.url}/api-docs`);
    expect(docs.status).toBe(200);
    expect(docs.headers.get('content-type')).toMatch(/^text\/html/);
  });

  it('creates and reads a todo through the validated routes', async () => {
    const created = await post({ title: 'write the example' });
    expect(created.status).toBe(201);
    const todo = (await created.json()) as { id: string; title: string; done: boolean };
    expect(todo).toMatchObject({ title: 'write the example', done: false });
    const read = await fetch(`${server.url}/api/todos/${todo.id}`);
    expect(await read.json()).toEqual(todo);
  });

  it('answers 400 with coded issues for bad input, never echoing it, and 404 for an unknown id', async () => {
    const bad = await post({ title: '', isAdmin: true, secret: 'hunter2-value' });
    expect(bad.status).toBe(400);
    const text = await bad.text();
    expect(JSON.parse(text)).toMatchObject({ success: false, error: { code: 'VALIDATION_ERROR' } });
    expect(text).not.toContain('hunter2-value');
    expect((await fetch(`${server.url}/api/todos/not-a-uuid`)).status).toBe(400);
    expect((await fetch(`${server.url}/api/todos/${'0'.repeat(8)}-0000-4000-8000-${'0'.repeat(12)}`)).status).toBe(404);
  });
});
