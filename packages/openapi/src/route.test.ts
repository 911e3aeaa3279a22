import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { RouteDefinitionError } from './errors.js';
import { defineRoute } from './route.js';
import type { RouteSpec } from './types.js';

const base: RouteSpec = {
  method: 'get',
  path: '/users/:id',
  operationId: 'getUser',
  summary: 'Get a user',
  responses: { 200: { description: 'ok' } },
};

describe('defineRoute', () => {
  it('derives the OpenAPI path, the param names and a label', () => {
    const route = defineRoute({ ...base, request: { params: z.object({ id: z.uuid() }) } });
    expect(route.openApiPath).toBe('/users/{id}');
    expect(route.pathParams).toEqual(['id']);
    expect(route.label).toBe('GET /users/:id');
    expect(Object.isFrozen(route)).toBe(true);
  });

  const broken: [string, Partial<RouteSpec> & Record<string, unknown>, RegExp][] = [
    ['upper-case method', { method: 'GET' as never }, /method/],
    ['bad operationId', { operationId: 'get user' }, /operationId/],
    ['empty summary', { summary: ' ' }, /summary/],
    [
      'params not matching the path',
      { request: { params: z.object({ userId: z.string() }) } },
      /declares \[userId\] but the path has \[id\]/,
    ],
    ['non-object query', { request: { query: z.string() as never } }, /request.query/],
    ['GET with a body', { request: { body: z.object({}) } }, /cannot have a request body/],
    ['no responses', { responses: {} }, /at least one response/],
    ['only error responses', { responses: { 404: { description: 'nope' } } }, /2xx or 3xx/],
    ['bad status', { responses: { 200: { description: 'ok' }, 999: { description: 'x' } } }, /not an HTTP status/],
    ['response without description', { responses: { 200: { description: '' } } }, /description/],
    ['extension without x-', { extensions: { 'rate-limit': 1 } as never }, /must start with "x-"/],
  ];
  it.each(broken)('rejects %s with a coded error', (_name, patch, message) => {
    let error: unknown;
    try {
      defineRoute({ ...base, ...patch } as RouteSpec);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(RouteDefinitionError);
    expect((error as RouteDefinitionError).code).toBe('OPENAPI_INVALID_ROUTE');
    expect((error as Error).message).toMatch(message);
  });
});
