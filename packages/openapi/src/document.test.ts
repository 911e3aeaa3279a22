import { describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { bearerAuth, buildDocument, cookieAuth, createOpenApi } from './document.js';
import { OpenApiError, OpenApiOptionsError, RouteDefinitionError } from './errors.js';
import { defineRoute } from './route.js';

const User = z
  .object({ id: z.uuid(), name: z.string().meta({ example: 'Ann' }), role: z.enum(['a', 'b']).default('a') })
  .meta({
    id: 'User',
    description: 'A user',
    example: { id: '3f1c2a9e-8f4b-4c1d-9a7e-2b5d6c7e8f90', name: 'Ann', role: 'a' },
  });
const getUser = defineRoute({
  method: 'get',
  path: '/users/:id',
  operationId: 'getUser',
  summary: 'Get a user',
  description: 'One user.',
  tags: ['users'],
  request: {
    params: z.object({ id: z.uuid().meta({ description: 'User id' }) }),
    query: z.object({ expand: z.coerce.boolean().optional() }),
  },
  responses: {
    200: { description: 'The user', body: User, headers: { ETag: z.string().meta({ description: 'Version tag' }) } },
  },
  extensions: { 'x-rate-limit': { limit: 10 } },
});
const createUser = defineRoute({
  method: 'post',
  path: '/users',
  operationId: 'createUser',
  summary: 'Create a user',
  request: { body: User },
  responses: { 201: { description: 'Created', body: User } },
  security: [{ bearer: [] }],
  errors: [409],
});
const info = { title: 'Test', version: '1.0.0' };
// The document's types are unions of objects and $refs; the assertions below check the shapes.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const loose = (value: unknown): any => value;

describe('buildDocument', () => {
  it('emits OpenAPI 3.1.0 with parameters, bodies, components, examples and extensions', () => {
    const doc = loose(
      buildDocument({
        info,
        routes: [getUser, createUser],
        securitySchemes: { bearer: bearerAuth(), session: cookieAuth('sid') },
        security: [{ session: [] }],
      }),
    );
    expect(doc.openapi).toBe('3.1.0');
    const op = doc.paths['/users/{id}'].get;
    expect(op.parameters).toEqual([
      expect.objectContaining({ name: 'id', in: 'path', required: true, description: 'User id' }),
      expect.objectContaining({ name: 'expand', in: 'query', required: false }),
    ]);
    expect(op['x-rate-limit']).toEqual({ limit: 10 });
    // x-rate-limit routes document the quota headers on successes as well.
    expect(op.responses['200'].headers.RateLimit).toEqual({ $ref: '#/components/headers/RateLimit' });
    expect(Object.keys(op.responses['200'].headers)).toEqual([
      'ETag',
      'X-RateLimit-Limit',
      'X-RateLimit-Remaining',
      'X-RateLimit-Reset',
      'RateLimit',
      'RateLimit-Policy',
    ]);
    expect(doc.paths['/users'].post.responses['201'].headers).toBeUndefined();
    const ok = op.responses['200'];
    expect(ok.content['application/json'].schema).toEqual({ $ref: '#/components/schemas/User' });
    expect(ok.content['application/json'].example).toMatchObject({ name: 'Ann' });
    expect(ok.headers.ETag).toEqual({
      description: 'Version tag',
      schema: { type: 'string', description: 'Version tag' },
    });
    // Derived error responses: 400 (has a request schema), 401/403 (global security), 404 (path param), defaults.
    expect(Object.keys(op.responses).sort()).toEqual(['200', '400', '401', '403', '404', '429', '500', '503']);
    expect(op.responses['429']).toEqual({ $ref: '#/components/responses/TooManyRequests' });
    const post = doc.paths['/users'].post;
    expect(post.security).toEqual([{ bearer: [] }]);
    expect(post.requestBody).toMatchObject({ required: true });
    expect(Object.keys(post.responses).sort()).toEqual([
      '201',
      '400',
      '401',
      '403',
      '409',
      '413',
      '415',
      '429',
      '500',
      '503',
    ]);
    expect(Object.keys(doc.components.responses!)).toEqual([
      'BadRequest',
      'Unauthorized',
      'Forbidden',
      'NotFound',
      'Conflict',
      'PayloadTooLarge',
      'UnsupportedMediaType',
      'TooManyRequests',
      'InternalError',
      'ServiceUnavailable',
    ]);
    expect(Object.keys(doc.components.headers!)).toEqual([
      'X-RateLimit-Limit',
      'X-RateLimit-Remaining',
      'X-RateLimit-Reset',
      'RateLimit',
      'RateLimit-Policy',
      'Retry-After',
    ]);
    expect(doc.tags).toEqual([{ name: 'users' }]);
  });

  it('keeps input and output variants of one named schema apart', () => {
    const doc = loose(
      buildDocument({ info, routes: [getUser, createUser], securitySchemes: { bearer: bearerAuth() } }),
    );
    const schemas = doc.components.schemas!;
    // role has a default: required in the output, optional in the input.
    expect((schemas.User as { required: string[] }).required).toContain('role');
    expect((schemas.UserInput as { required: string[] }).required).not.toContain('role');
    expect(doc.paths['/users'].post.requestBody).toMatchObject({
      content: { 'application/json': { schema: { $ref: '#/components/schemas/UserInput' } } },
    });
  });

  it('gives the id to the variant seen first, and one component to a schema that converts the same both ways', () => {
    const Tag = z.strictObject({ name: z.string() }).meta({ id: 'Tag' });
    const createTag = defineRoute({
      method: 'post',
      path: '/tags',
      operationId: 'createTag',
      summary: 'Create a tag',
      request: { body: Tag },
      responses: { 201: { description: 'Created', body: Tag } },
    });
    // createUser reads User (input) before it sends it (output): the input variant owns the id.
    const doc = loose(
      buildDocument({ info, routes: [createUser, createTag], securitySchemes: { bearer: bearerAuth() } }),
    );
    const schemas = doc.components.schemas!;
    expect(Object.keys(schemas).filter((name) => !['ApiError', 'ValidationIssue'].includes(name))).toEqual([
      'Tag',
      'User',
      'UserOutput',
    ]);
    expect((schemas.User as { required: string[] }).required).not.toContain('role');
    expect((schemas.UserOutput as { required: string[] }).required).toContain('role');
    const post = doc.paths['/users'].post;
    expect(post.requestBody.content['application/json'].schema).toEqual({ $ref: '#/components/schemas/User' });
    expect(post.responses['201'].content['application/json'].schema).toEqual({
      $ref: '#/components/schemas/UserOutput',
    });
    const tag = doc.paths['/tags'].post;
    expect(tag.requestBody.content['application/json'].schema).toEqual({ $ref: '#/components/schemas/Tag' });
    expect(tag.responses['201'].content['application/json'].schema).toEqual({ $ref: '#/components/schemas/Tag' });
  });

  it('emits 3.0.3 on request, without 3.1-only fields', () => {
    const doc = buildDocument({
      info: { ...info, license: { name: 'MIT', identifier: 'MIT' } },
      openapi: '3.0.3',
      routes: [getUser],
    });
    expect(doc.openapi).toBe('3.0.3');
    expect(doc.info.license).toEqual({ name: 'MIT', url: 'https://spdx.org/licenses/MIT.html' });
    expect(JSON.stringify(doc)).not.toContain('$defs');
  });

  it('documents path params without a schema as strings, in path order, before query params', () => {
    const route = defineRoute({
      method: 'get',
      path: '/orgs/:org/repos/:repo',
      operationId: 'getRepo',
      summary: 'A repo',
      request: { query: z.object({ page: z.coerce.number().int().optional() }) },
      responses: { 200: { description: 'The repo' } },
    });
    const doc = buildDocument({ info, routes: [route] });
    const params = doc.paths!['/orgs/{org}/repos/{repo}']!.get!.parameters as { name: string; in: string }[];
    expect(params.map((p) => `${p.in}:${p.name}`)).toEqual(['path:org', 'path:repo', 'query:page']);
  });

  it('builds once and caches the JSON', () => {
    const api = createOpenApi({ info, routes: [getUser] });
    expect(JSON.parse(api.json)).toEqual(api.document);
    expect(api.document).toBe(api.document);
  });

  it('builds the document at once but serialises it only when json is first read', () => {
    const stringify = vi.spyOn(JSON, 'stringify');
    try {
      const api = createOpenApi({ info, routes: [getUser] });
      const serialised = () => stringify.mock.calls.filter(([value]) => value === api.document).length;
      expect(serialised()).toBe(0);
      const json = api.json;
      expect(api.json).toBe(json);
      expect(serialised()).toBe(1);
    } finally {
      stringify.mockRestore();
    }
    // Building is what checks the routes, so a bad route still fails at construction.
    expect(() => createOpenApi({ info, routes: [getUser, getUser] })).toThrow(RouteDefinitionError);
  });

  it('rejects bad options and inconsistent routes with coded errors', () => {
    expect(() => buildDocument({ info: { title: '', version: '1' }, routes: [] })).toThrow(OpenApiOptionsError);
    expect(() => buildDocument({ info, openapi: '2.0' as never, routes: [] })).toThrow(/3.1.0/);
    expect(() => buildDocument({ info, routes: [{ method: 'get' } as never] })).toThrow(/defineRoute/);
    expect(() => buildDocument({ info, routes: [getUser, getUser] })).toThrow(RouteDefinitionError);
    expect(() => buildDocument({ info, routes: [createUser] })).toThrow(/security scheme "bearer"/);
    expect(() => buildDocument({ info, routes: [], defaultErrors: [418 as never] })).toThrow(/defaultErrors/);
    const clash = defineRoute({
      method: 'get',
      path: '/x',
      operationId: 'x',
      summary: 'x',
      responses: { 200: { description: 'x', body: z.object({ a: z.number() }).meta({ id: 'User' }) } },
    });
    expect(() => buildDocument({ info, routes: [getUser, clash] })).toThrow(OpenApiError);
  });
});
