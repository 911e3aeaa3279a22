import express from 'express';
import { z } from 'zod';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listen } from '@org/test-services';
import { buildDocument, defineRoute, OpenApiOptionsError, type ErrorCatalog } from '../src/index.js';
import { apiErrorHandler, createApiRouter, implement } from '../src/express/index.js';

// One catalog drives the documented error responses and the errors the router sends.
const errors: ErrorCatalog = {
  400: { code: 'BAD_INPUT', codes: ['INVALID_JSON'], message: 'Invalid input' },
  401: { code: 'UNAUTHORIZED', message: 'Sign in first' },
  413: { code: 'TOO_BIG', message: 'Body over the limit' },
  415: { code: 'JSON_ONLY', message: 'Send JSON' },
  429: {
    code: 'RATE_LIMIT_EXCEEDED',
    message: 'Free tier rate limit exceeded.',
    headers: {
      'X-RateLimit-Reset': { description: 'Epoch seconds of the reset.', schema: { type: 'integer' } },
      'Retry-After': { description: 'Seconds to wait.', schema: { type: 'integer' } },
    },
    fields: { currentTier: { type: 'string', example: 'free' } },
    required: ['currentTier'],
  },
};

const create = defineRoute({
  method: 'post',
  path: '/things',
  operationId: 'createThing',
  summary: 'Create a thing',
  request: { body: z.object({ name: z.string().min(1) }).strict() },
  responses: { 201: { description: 'Created', body: z.object({ name: z.string() }) } },
  security: [{ key: [] }],
  extensions: { 'x-rate-limit': {} },
});
const info = { title: 'Catalog', version: '1.0.0' };
const securitySchemes = { key: { type: 'http' as const, scheme: 'bearer' } };
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const loose = (value: unknown): any => value;

describe('errors catalog', () => {
  it('documents each status with its codes (as an enum), fields, required fields and headers', () => {
    const doc = loose(buildDocument({ info, routes: [create], securitySchemes, errors }));
    const tooMany = doc.components.responses.TooManyRequests;
    expect(tooMany.content['application/json'].example).toEqual({
      success: false,
      error: {
        code: 'RATE_LIMIT_EXCEEDED',
        message: 'Free tier rate limit exceeded.',
        requestId: expect.any(String),
        currentTier: 'free',
      },
    });
    const narrowed = tooMany.content['application/json'].schema.properties.error;
    expect(narrowed.properties.code.enum).toEqual(['RATE_LIMIT_EXCEEDED']);
    expect(narrowed.required).toEqual(['code', 'message', 'currentTier']);
    expect(Object.keys(tooMany.headers)).toEqual(['X-RateLimit-Reset', 'Retry-After']);
    expect(doc.components.headers['X-RateLimit-Reset'].description).toBe('Epoch seconds of the reset.');
    // Successes of a rate-limited route carry the catalog's quota headers.
    expect(Object.keys(doc.paths['/things'].post.responses['201'].headers)).toEqual(['X-RateLimit-Reset']);
    expect(
      doc.components.responses.BadRequest.content['application/json'].schema.properties.error.properties.code.enum,
    ).toEqual(['BAD_INPUT', 'INVALID_JSON']);
    expect(JSON.stringify(doc)).not.toMatch(/UNAUTHENTICATED|RATE_LIMITED/);
  });

  it('without a catalog documents the built-in codes, X-RateLimit-Reset as epoch seconds', () => {
    const doc = loose(buildDocument({ info, routes: [create], securitySchemes }));
    expect(doc.components.responses.Unauthorized.content['application/json'].example.error.code).toBe(
      'UNAUTHENTICATED',
    );
    expect(doc.components.responses.Unauthorized.content['application/json'].schema).toEqual({
      $ref: '#/components/schemas/ApiError',
    });
    expect(doc.components.headers['X-RateLimit-Reset'].description).toMatch(/epoch seconds/);
  });

  it('refuses unknown statuses and malformed entries at construction', () => {
    expect(() => buildDocument({ info, routes: [], errors: { 418: { code: 'TEAPOT' } } as never })).toThrow(
      OpenApiOptionsError,
    );
    expect(() => buildDocument({ info, routes: [], errors: { 400: { code: '' } } })).toThrow(/errors.400.code/);
    expect(() => buildDocument({ info, routes: [], errors: { 429: { required: ['nope'] } } })).toThrow(/not in fields/);
  });

  describe('the router sends the catalog over real HTTP', () => {
    let server: Awaited<ReturnType<typeof listen>>;
    beforeAll(async () => {
      const { router } = createApiRouter({
        info,
        routes: [implement(create, (req, res) => res.reply(201, { name: req.body.name }))],
        securitySchemes,
        securityHandlers: { key: (req) => req.headers.authorization === 'Bearer k' },
        jsonLimit: 64,
        errors,
      });
      const app = express();
      app.use((_req, res, next) => ((res.locals.requestId = 'req-1'), next()));
      app.use(router);
      app.use(apiErrorHandler({ errors }));
      server = await listen(app);
    });
    afterAll(() => server.close());

    const post = (body: string, headers: Record<string, string> = {}) =>
      fetch(`${server.url}/things`, {
        method: 'POST',
        headers: { authorization: 'Bearer k', 'content-type': 'application/json', ...headers },
        body,
      });

    it.each([
      [
        '401 without credentials',
        () => post('{}', { authorization: 'Bearer wrong' }),
        401,
        'UNAUTHORIZED',
        'Sign in first',
      ],
      [
        '400 on a validation failure',
        () => post('{"name":""}'),
        400,
        'BAD_INPUT',
        'Request validation failed with 1 issue',
      ],
      [
        '400 on malformed JSON (body-parser table)',
        () => post('{"name":'),
        400,
        'INVALID_JSON',
        'The request body is not valid JSON',
      ],
      [
        '413 on a body over jsonLimit',
        () => post(JSON.stringify({ name: 'x'.repeat(200) })),
        413,
        'TOO_BIG',
        'Body over the limit',
      ],
      [
        '415 on another media type',
        () => post('name=x', { 'content-type': 'text/plain' }),
        415,
        'JSON_ONLY',
        'Send JSON',
      ],
    ])('%s', async (_name, send, status, code, message) => {
      const res = await send();
      expect(res.status).toBe(status);
      const body = (await res.json()) as {
        success: boolean;
        error: { code: string; message: string; requestId: string };
      };
      expect(body).toMatchObject({ success: false, error: { code, message, requestId: 'req-1' } });
    });
  });
});
