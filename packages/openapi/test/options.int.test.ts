import express from 'express';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { OpenApiOptionsError, bearerAuth, buildDocument, defineRoute } from '../src/index.js';
import { apiErrorHandler, createApiRouter, implement } from '../src/express/index.js';
import { listen } from '@org/test-services';

const info = { title: 't', version: '1' };
const ping = defineRoute({
  method: 'get',
  path: '/ping',
  operationId: 'ping',
  summary: 'Ping',
  responses: { 200: { description: 'pong', body: z.object({ pong: z.boolean() }) }, 204: { description: 'nothing' } },
});

describe('createApiRouter options', () => {
  it.each([
    ['a bad responseValidation mode', { responseValidation: 'loud' }, /responseValidation/],
    ['a security handler without a scheme', { securityHandlers: { session: () => true } }, /securityHandlers.session/],
    [
      'a non-function security handler',
      { securitySchemes: { apiKey: bearerAuth() }, securityHandlers: { apiKey: 'yes' } },
      /must be a function/,
    ],
    ['a bad docs path', { docs: { uiPath: 'docs/' } }, /docs.uiPath/],
    ['a bad jsonLimit', { jsonLimit: true }, /jsonLimit/],
    ['routes that are not implemented routes', { routes: [ping] }, /defineRoute/],
  ])('rejects %s with OPENAPI_INVALID_OPTIONS', (_name, patch, message) => {
    let error: unknown;
    try {
      createApiRouter({ info, routes: [implement(ping, (_req, res) => res.reply(204))], ...(patch as object) });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(OpenApiOptionsError);
    expect((error as OpenApiOptionsError).code).toBe('OPENAPI_INVALID_OPTIONS');
    expect((error as Error).message).toMatch(message);
  });

  it('rejects a handler that is not a function', () => {
    expect(() => implement(ping, undefined as never)).toThrow(OpenApiOptionsError);
  });

  it('leaves every router-only option out of the document', () => {
    const api = createApiRouter({
      info,
      securitySchemes: { apiKey: bearerAuth() },
      routes: [implement(ping, (_req, res) => res.reply(204))],
      responseValidation: 'off',
      requestId: () => 'rid',
      logger: { error: () => undefined },
      parseJson: false,
      jsonLimit: 10,
      securityHandlers: { apiKey: () => true },
      docs: { enabled: false },
    });
    expect(api.openapi.document).toEqual(
      buildDocument({ info, securitySchemes: { apiKey: bearerAuth() }, routes: [ping] }),
    );
  });
});

describe('response validation edge cases (strict)', () => {
  async function serve(handler: (res: express.Response) => void) {
    const api = createApiRouter({
      info,
      responseValidation: 'strict',
      logger: { error: () => undefined },
      routes: [implement(ping, (_req, res) => handler(res))],
    });
    return listen(express().use(api.router));
  }

  it('treats an undocumented success status as a contract violation', async () => {
    const server = await serve((res) => void res.status(202).json({ pong: true }));
    try {
      const res = await fetch(`${server.url}/ping`);
      expect(res.status).toBe(500);
      expect(await res.json()).toMatchObject({
        error: { code: 'RESPONSE_VALIDATION_ERROR', issues: [{ code: 'undocumented_status' }] },
      });
    } finally {
      await server.close();
    }
  });

  it('treats a body on a status documented without one as a violation, and lets error bodies through', async () => {
    let status = 204;
    const server = await serve((res) => void res.status(status).json({ anything: 1 }));
    try {
      expect(await (await fetch(`${server.url}/ping`)).json()).toMatchObject({
        error: { issues: [{ code: 'unexpected_body' }] },
      });
      status = 418;
      const teapot = await fetch(`${server.url}/ping`);
      expect(teapot.status).toBe(418);
      expect(await teapot.json()).toEqual({ anything: 1 });
    } finally {
      await server.close();
    }
  });
});

describe('apiErrorHandler', () => {
  it('maps exposed 4xx errors, body-parser errors and hides everything else', async () => {
    const app = express();
    app.get('/exposed', () => {
      throw Object.assign(new Error('Gone for good'), { status: 410, expose: true });
    });
    app.get('/hidden', () => {
      throw Object.assign(new Error('secret internals'), { status: 410, expose: false });
    });
    app.post('/json', express.json({ limit: 10 }), (_req, res) => void res.json({}));
    const unexpected: unknown[] = [];
    app.use(apiErrorHandler({ requestId: () => 'rid', onUnexpected: (e) => unexpected.push(e) }));
    const server = await listen(app);
    try {
      const exposed = await fetch(`${server.url}/exposed`);
      expect(exposed.status).toBe(410);
      expect(await exposed.json()).toEqual({
        success: false,
        error: { code: 'HTTP_ERROR', message: 'Gone for good', requestId: 'rid' },
      });
      const hidden = await fetch(`${server.url}/hidden`);
      expect(hidden.status).toBe(500);
      expect(await hidden.text()).not.toContain('secret');
      const large = await fetch(`${server.url}/json`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ a: 'x'.repeat(100) }),
      });
      expect(large.status).toBe(413);
      expect(await large.json()).toMatchObject({ error: { code: 'PAYLOAD_TOO_LARGE' } });
      const charset = await fetch(`${server.url}/json`, {
        method: 'POST',
        headers: { 'content-type': 'application/json; charset=klingon' },
        body: '{}',
      });
      expect(charset.status).toBe(415);
      expect(unexpected).toHaveLength(1);
    } finally {
      await server.close();
    }
  });
});

describe('securityHandlers', () => {
  it('enforces a route only when every scheme of its requirements has a handler', async () => {
    const secured = (operationId: string, security: Record<string, string[]>[]) =>
      defineRoute({
        method: 'get',
        path: `/${operationId}`,
        operationId,
        summary: operationId,
        security,
        responses: { 204: { description: 'ok' } },
      });
    const api = createApiRouter({
      info,
      securitySchemes: { apiKey: bearerAuth(), partner: bearerAuth('Partner token') },
      securityHandlers: { apiKey: (req) => req.headers.authorization === 'Bearer k' },
      routes: [
        implement(secured('keyOnly', [{ apiKey: [] }]), (_req, res) => res.reply(204)),
        implement(secured('keyOrPartner', [{ apiKey: [] }, { partner: [] }]), (_req, res) => res.reply(204)),
      ],
    });
    const server = await listen(express().use(api.router));
    try {
      expect((await fetch(`${server.url}/keyOnly`)).status).toBe(401);
      expect((await fetch(`${server.url}/keyOnly`, { headers: { authorization: 'Bearer k' } })).status).toBe(204);
      // "partner" has no handler here, so the app's own middleware decides: nothing is rejected.
      expect((await fetch(`${server.url}/keyOrPartner`)).status).toBe(204);
    } finally {
      await server.close();
    }
  });
});
