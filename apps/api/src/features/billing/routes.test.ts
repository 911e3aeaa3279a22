import { assertRouterMatchesDocument } from '@org/openapi';
import express from 'express';
import { describe, expect, it } from 'vitest';
import type { Billing } from './billing.js';
import { createSubscriptionRouter } from './routes.js';

describe('billing routes: OpenAPI document', () => {
  // The handlers are never called here: only the document and the mounted routes are compared.
  const billing = {} as Billing;
  const api = createSubscriptionRouter(billing, { sessionCookieName: 'session', isProduction: false });

  it('documents the three operations, with security, the strict checkout body and the 409/503 errors', () => {
    const doc = api.openapi.document as unknown as {
      paths: Record<
        string,
        Record<
          string,
          { operationId: string; security?: unknown; responses: Record<string, unknown>; requestBody?: unknown }
        >
      >;
    };
    expect(Object.keys(doc.paths).sort()).toEqual(['/subscription', '/subscription/checkout', '/subscription/portal']);
    expect(doc.paths['/subscription']!.get!.operationId).toBe('getSubscription');
    const checkout = doc.paths['/subscription/checkout']!.post!;
    expect(checkout.operationId).toBe('createCheckoutSession');
    expect(checkout.requestBody).toBeDefined();
    expect(Object.keys(checkout.responses)).toEqual(expect.arrayContaining(['200', '400', '401', '409', '429', '503']));
    expect(doc.paths['/subscription/portal']!.post!.operationId).toBe('createPortalSession');
  });

  it('matches the routes mounted at /api and /v1/api', () => {
    const app = express();
    app.use(['/api', '/v1/api'], api.router);
    expect(() => assertRouterMatchesDocument(app, api.openapi.document)).not.toThrow();
  });
});
