import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import express from 'express';
import { z } from 'zod';
import { defineRoute } from '../src/index.js';
import { apiErrorHandler, createApiRouter, implement } from '../src/express/index.js';
import { VALID_API_KEY, VALID_SESSION, createExampleApp } from './example-app.js';
import { listen } from '@org/test-services';

const session = { cookie: `sid=${VALID_SESSION}` };
const apiKey = { authorization: `Bearer ${VALID_API_KEY}` };
const json = { 'content-type': 'application/json' };

describe('example app over real HTTP', () => {
  let server: Awaited<ReturnType<typeof listen>>;
  let example: ReturnType<typeof createExampleApp>;
  beforeAll(async () => {
    example = createExampleApp();
    server = await listen(example.app);
  });
  afterAll(() => server.close());

  it('serves typed, validated GETs on both mounts', async () => {
    for (const prefix of ['/api', '/v1/api']) {
      const res = await fetch(`${server.url}${prefix}/workflows?limit=1&status=active`, { headers: session });
      expect(res.status).toBe(200);
      const body = (await res.json()) as { items: { name: string }[]; nextCursor: string | null };
      expect(body.items.map((w) => w.name)).toEqual(['Welcome series']);
      expect(body.nextCursor).toBeNull();
    }
  });

  it('lists every issue of params, query and body in the API error format', async () => {
    const res = await fetch(`${server.url}/api/workflows?limit=0&status=gone&extra=1`, { headers: session });
    expect(res.status).toBe(400);
    const body = (await res.json()) as {
      success: boolean;
      error: {
        code: string;
        message: string;
        issues: { location: string; path: unknown[]; code: string; message: string }[];
      };
    };
    expect(body.success).toBe(false);
    expect(body.error.code).toBe('VALIDATION_ERROR');
    const found = body.error.issues.map((i) => `${i.location}:${i.path.join('.')}:${i.code}`).sort();
    expect(found).toEqual(['query::unrecognized_keys', 'query:limit:too_small', 'query:status:invalid_value']);
    for (const issue of body.error.issues) expect(issue.message).toEqual(expect.any(String));
  });

  it('rejects unknown body properties of a strict schema (mass assignment)', async () => {
    const res = await fetch(`${server.url}/api/workflows`, {
      method: 'POST',
      headers: { ...session, ...json },
      body: JSON.stringify({ name: 'New', steps: [], isAdmin: true }),
    });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: { issues: { location: string; code: string }[] } };
    expect(body.error.issues).toEqual([expect.objectContaining({ location: 'body', code: 'unrecognized_keys' })]);
    expect([...example.workflows.values()].some((w) => w.name === 'New')).toBe(false);
  });

  it('rejects a bad path param with 400 and a missing resource with 404', async () => {
    const bad = await fetch(`${server.url}/api/workflows/not-a-uuid`, { headers: session });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { issues: { location: string }[] } }).error.issues[0]!.location).toBe(
      'params',
    );
    const missing = await fetch(`${server.url}/api/workflows/00000000-0000-4000-8000-000000000000`, {
      headers: session,
    });
    expect(missing.status).toBe(404);
  });

  it('creates with 201, applies defaults and answers 409 on a conflict', async () => {
    const create = () =>
      fetch(`${server.url}/api/contacts`, {
        method: 'POST',
        headers: { ...apiKey, ...json },
        body: JSON.stringify({ email: 'bob@example.com', name: 'Bob' }),
      });
    const first = await create();
    expect(first.status).toBe(201);
    expect(await first.json()).toMatchObject({ email: 'bob@example.com', tags: [] });
    expect((await create()).status).toBe(409);
  });

  it('validates headers (case-insensitively) and exposes them typed', async () => {
    const post = (key: string) =>
      fetch(`${server.url}/api/contacts`, {
        method: 'POST',
        headers: { ...apiKey, ...json, 'idempotency-key': key },
        body: JSON.stringify({ email: `c${key}@example.com`, name: 'C' }),
      });
    const short = await post('x');
    expect(short.status).toBe(400);
    expect(
      ((await short.json()) as { error: { issues: { location: string; path: string[] }[] } }).error.issues[0],
    ).toMatchObject({ location: 'headers', path: ['Idempotency-Key'] });
    const first = await post('key-12345');
    expect(first.status).toBe(201);
    const replay = await post('key-12345');
    expect(replay.status).toBe(200);
    expect(await replay.json()).toEqual(await first.json());
  });

  it('answers HEAD on GET routes (validated, no body)', async () => {
    const res = await fetch(`${server.url}/api/status`, { method: 'HEAD' });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('');
  });

  it('answers 401 without credentials and honours per-route security', async () => {
    expect((await fetch(`${server.url}/api/workflows`)).status).toBe(401);
    expect((await fetch(`${server.url}/api/status`)).status).toBe(200);
    // createContact accepts only API keys, not sessions.
    const res = await fetch(`${server.url}/api/contacts`, {
      method: 'POST',
      headers: { ...session, ...json },
      body: '{}',
    });
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('UNAUTHENTICATED');
  });

  it('maps malformed JSON to 400, oversized bodies to 413 and other media types to 415', async () => {
    const post = (body: string, type = 'application/json') =>
      fetch(`${server.url}/api/workflows`, { method: 'POST', headers: { ...session, 'content-type': type }, body });
    const malformed = await post('{"name":');
    expect(malformed.status).toBe(400);
    expect(((await malformed.json()) as { error: { code: string } }).error.code).toBe('INVALID_JSON');
    const huge = await post(JSON.stringify({ name: 'x'.repeat(200_000), steps: [] }));
    expect(huge.status).toBe(413);
    expect(((await huge.json()) as { error: { code: string } }).error.code).toBe('PAYLOAD_TOO_LARGE');
    const text = await post('name=x', 'application/x-www-form-urlencoded');
    expect(text.status).toBe(415);
  });

  it('answers 415 to a malformed JSON content type that express.json does not parse, and 400 to an empty body', async () => {
    const post = (type: string, body: string) =>
      fetch(`${server.url}/api/workflows`, { method: 'POST', headers: { ...session, 'content-type': type }, body });
    // Both look like JSON to a loose pattern, but type-is (what express.json asks) rejects them.
    for (const type of ['application/+json', 'application/a/b+json']) {
      const res = await post(type, JSON.stringify({ name: 'Malformed type', steps: [] }));
      expect(res.status, type).toBe(415);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('UNSUPPORTED_MEDIA_TYPE');
    }
    // Content-Length: 0 is no body at all: the missing body is a validation error, whatever the type.
    const empty = await post('text/plain', '');
    expect(empty.status).toBe(400);
    expect(((await empty.json()) as { error: { code: string } }).error.code).toBe('VALIDATION_ERROR');
  });
});

describe('response validation', () => {
  it('turns an invalid response body into a 500 in strict mode', async () => {
    const { app } = createExampleApp({ breakStatus: true, responseValidation: 'strict' });
    const server = await listen(app);
    try {
      const res = await fetch(`${server.url}/api/status`);
      expect(res.status).toBe(500);
      const body = (await res.json()) as { error: { code: string; issues: unknown[] } };
      expect(body.error.code).toBe('RESPONSE_VALIDATION_ERROR');
      expect(body.error.issues.length).toBeGreaterThan(0);
    } finally {
      await server.close();
    }
  });

  it('only logs in log mode, and strips undeclared fields from valid bodies', async () => {
    const logged: unknown[] = [];
    const route = defineRoute({
      method: 'get',
      path: '/me',
      operationId: 'me',
      summary: 'Me',
      security: [],
      responses: { 200: { description: 'Me', body: z.object({ name: z.string() }) } },
    });
    let body: unknown = { name: 'ann', passwordHash: 'secret' };
    const api = createApiRouter({
      info: { title: 't', version: '1' },
      responseValidation: 'log',
      logger: { error: (details) => logged.push(details) },
      routes: [implement(route, (_req, res) => res.json(body))],
    });
    const app = express().use(api.router);
    const server = await listen(app);
    try {
      const ok = await fetch(`${server.url}/me`);
      expect(await ok.json()).toEqual({ name: 'ann' });
      expect(logged).toHaveLength(0);
      body = { name: 42 };
      const bad = await fetch(`${server.url}/me`);
      expect(bad.status).toBe(200);
      expect(await bad.json()).toEqual({ name: 42 });
      expect(logged).toEqual([
        expect.objectContaining({ code: 'RESPONSE_VALIDATION_ERROR', route: 'GET /me', status: 200 }),
      ]);
    } finally {
      await server.close();
    }
  });

  it('puts the request id from res.locals (or req.id) into error bodies', async () => {
    const route = defineRoute({
      method: 'get',
      path: '/items/:n',
      operationId: 'item',
      summary: 'Item',
      request: { params: z.object({ n: z.coerce.number().int() }) },
      responses: { 200: { description: 'ok' } },
    });
    const api = createApiRouter({
      info: { title: 't', version: '1' },
      routes: [implement(route, (req, res) => res.reply(200))],
    });
    const app = express();
    app.use((_req, res, next) => {
      res.locals.requestId = 'req-42';
      next();
    });
    app.use(api.router, apiErrorHandler());
    const server = await listen(app);
    try {
      const res = await fetch(`${server.url}/items/abc`);
      expect(await res.json()).toMatchObject({ error: { requestId: 'req-42', code: 'VALIDATION_ERROR' } });
      expect((await fetch(`${server.url}/items/3`)).status).toBe(200);
    } finally {
      await server.close();
    }
  });

  it('sends handler errors to the app error handler without leaking details', async () => {
    const route = defineRoute({
      method: 'get',
      path: '/boom',
      operationId: 'boom',
      summary: 'Boom',
      responses: { 200: { description: 'never' } },
    });
    const seen: unknown[] = [];
    const api = createApiRouter({
      info: { title: 't', version: '1' },
      routes: [
        implement(route, async () => {
          throw new Error('db password=hunter2 refused');
        }),
      ],
    });
    const app = express().use(api.router, apiErrorHandler({ onUnexpected: (e) => seen.push(e) }));
    const server = await listen(app);
    try {
      const res = await fetch(`${server.url}/boom`);
      expect(res.status).toBe(500);
      const text = await res.text();
      expect(text).not.toContain('hunter2');
      expect(JSON.parse(text)).toEqual({
        success: false,
        error: { code: 'INTERNAL_ERROR', message: 'Internal server error' },
      });
      expect(seen).toHaveLength(1);
    } finally {
      await server.close();
    }
  });
});

describe('routing option', () => {
  const ping = defineRoute({
    method: 'get',
    path: '/ping',
    operationId: 'ping',
    summary: 'Ping',
    responses: { 200: { description: 'Pong.', body: z.object({ pong: z.boolean() }) } },
  });
  const serve = async (routing?: { caseSensitive?: boolean; strict?: boolean }) => {
    const { router } = createApiRouter({
      info: { title: 't', version: '1' },
      routes: [implement(ping, (_req, res) => res.reply(200, { pong: true }))],
      routing,
      docs: { enabled: false },
    });
    const app = express();
    app.use('/api', router);
    app.use(apiErrorHandler());
    return listen(app);
  };

  it('matches paths exactly as written with caseSensitive and strict; Express defaults otherwise', async () => {
    const exact = await serve({ caseSensitive: true, strict: true });
    const loose = await serve();
    try {
      const status = async (base: string, path: string) => (await fetch(`${base}${path}`)).status;
      expect(await status(exact.url, '/api/ping')).toBe(200);
      expect(await status(exact.url, '/api/PING')).toBe(404);
      expect(await status(exact.url, '/api/ping/')).toBe(404);
      expect(await status(loose.url, '/api/PING')).toBe(200);
      expect(await status(loose.url, '/api/ping/')).toBe(200);
    } finally {
      await exact.close();
      await loose.close();
    }
  });
});
