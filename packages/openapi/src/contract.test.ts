import express from 'express';
import { describe, expect, it } from 'vitest';
import {
  assertRouterMatchesDocument,
  compareRouterWithDocument,
  listDocumentOperations,
  listExpressRoutes,
} from './contract.js';
import { buildDocument } from './document.js';
import { ContractError } from './errors.js';
import { defineRoute } from './route.js';

const noop: express.RequestHandler = (_req, res) => void res.end();
const routes = [
  defineRoute({
    method: 'get',
    path: '/users',
    operationId: 'listUsers',
    summary: 'List',
    responses: { 200: { description: 'ok' } },
  }),
  defineRoute({
    method: 'get',
    path: '/users/:id',
    operationId: 'getUser',
    summary: 'Get',
    responses: { 200: { description: 'ok' } },
  }),
];
const document = buildDocument({
  info: { title: 't', version: '1' },
  servers: [{ url: '/api' }, { url: 'https://example.org/v1/api' }],
  routes,
});

function app(extra?: (router: express.Router) => void) {
  const router = express.Router();
  router.get('/users', noop);
  router.get('/users/:id', noop);
  extra?.(router);
  const a = express();
  a.use('/api', router);
  a.use('/v1/api', router);
  a.get('/health', noop);
  return a;
}

describe('router/document contract', () => {
  it('lists nested routes with their full mount paths', () => {
    expect(listExpressRoutes(app())).toEqual([
      { method: 'GET', path: '/api/users' },
      { method: 'GET', path: '/api/users/:id' },
      { method: 'GET', path: '/v1/api/users' },
      { method: 'GET', path: '/v1/api/users/:id' },
      { method: 'GET', path: '/health' },
    ]);
  });

  it('passes when every route is documented under every server prefix', () => {
    const report = assertRouterMatchesDocument(app(), document, { ignore: ['/health'] });
    expect(report.operations).toHaveLength(4);
    expect(report.undocumented).toEqual([]);
  });

  it('fails on an undocumented route', () => {
    const a = app((r) => r.delete('/users/:id', noop));
    let error: ContractError | undefined;
    try {
      assertRouterMatchesDocument(a, document, { ignore: ['/health'] });
    } catch (e) {
      error = e as ContractError;
    }
    expect(error).toBeInstanceOf(ContractError);
    expect(error!.code).toBe('OPENAPI_CONTRACT_MISMATCH');
    expect(error!.undocumented).toEqual(['DELETE /api/users/:id', 'DELETE /v1/api/users/:id']);
  });

  it('fails on a documented path that is not mounted (or mounted under one prefix only)', () => {
    const a = express();
    const router = express.Router();
    router.get('/users', noop);
    a.use('/api', router);
    const report = compareRouterWithDocument(a, document);
    expect(report.unmounted.map((e) => `${e.method} ${e.path}`)).toEqual([
      'GET /v1/api/users',
      'GET /api/users/:id',
      'GET /v1/api/users/:id',
    ]);
    expect(() => assertRouterMatchesDocument(a, document)).toThrow(/documented but not mounted/);
  });

  it('handles routers mounted at "/" and servers at "/" or with a trailing slash', () => {
    const router = express.Router();
    router.get('/users', noop);
    router.get('/users/:id', noop);
    const nested = express.Router();
    nested.use('/', router);
    const a = express();
    a.use(router);
    a.use('/api/', nested);
    expect(listExpressRoutes(a)).toEqual([
      { method: 'GET', path: '/users' },
      { method: 'GET', path: '/users/:id' },
      { method: 'GET', path: '/api/users' },
      { method: 'GET', path: '/api/users/:id' },
    ]);
    const rootAndSlash = buildDocument({
      info: { title: 't', version: '1' },
      servers: [{ url: '/' }, { url: 'https://example.org/api/' }],
      routes,
    });
    expect(listDocumentOperations(rootAndSlash).map((e) => `${e.method} ${e.path}`)).toEqual([
      'GET /users',
      'GET /api/users',
      'GET /users/:id',
      'GET /api/users/:id',
    ]);
    expect(listDocumentOperations(rootAndSlash, { mounts: ['/', '/api/'] })).toEqual(
      listDocumentOperations(rootAndSlash),
    );
    expect(assertRouterMatchesDocument(a, rootAndSlash).operations).toHaveLength(4);
    expect(listDocumentOperations({ ...rootAndSlash, servers: [{ url: '/api//' }] }).map((e) => e.path)).toEqual([
      '/api/users',
      '/api/users/:id',
    ]);
  });

  it('flags a renamed path parameter as a mismatch', () => {
    const a = express();
    const router = express.Router();
    router.get('/users', noop);
    router.get('/users/:userId', noop);
    a.use('/api', router);
    const report = compareRouterWithDocument(a, document, { mounts: ['/api'] });
    expect(report.undocumented).toEqual([{ method: 'GET', path: '/api/users/:userId' }]);
    expect(report.unmounted).toEqual([{ method: 'GET', path: '/api/users/:id' }]);
  });
});

describe('routers the contract cannot list', () => {
  it('reports RegExp mounts as unlisted instead of silently skipping them', () => {
    const a = app();
    const hidden = express.Router();
    hidden.get('/x', noop);
    a.use(/^\/legacy/, hidden);
    const report = compareRouterWithDocument(a, document, { ignore: ['/health'] });
    expect(report.unlisted).toEqual([expect.stringContaining('mount /^\\/legacy/')]);
    expect(report.undocumented).toEqual([]);
    expect(() => assertRouterMatchesDocument(a, document, { ignore: ['/health'] })).toThrow(/cannot be listed/);
    expect(() => assertRouterMatchesDocument(a, document, { ignore: ['/health'], allowUnlisted: true })).not.toThrow();
  });
});
