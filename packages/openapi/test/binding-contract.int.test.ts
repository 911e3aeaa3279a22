import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_KEY, bindings, WORKFLOW_ID, type Running } from './bindings.js';

// One contract, every framework binding: the same document, docs UI, statuses and error bodies.
const json = { 'content-type': 'application/json' };
const issuesOf = (body: unknown) =>
  ((body as { error: { issues?: { location: string; path: unknown[]; code: string }[] } }).error.issues ?? [])
    .map((i) => `${i.location}:${i.path.join('.')}:${i.code}`)
    .sort();

const documents = new Map<string, string>();

describe.each(bindings)('OpenAPI binding contract on $name', (binding) => {
  let server: Running;
  beforeAll(async () => {
    server = await binding.start();
  });
  afterAll(() => server.close());
  const url = (path: string) => `${server.url}${path}`;

  it('serves the same document at /openapi.json on every binding', async () => {
    const res = await fetch(url('/openapi.json'));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    const text = await res.text();
    expect(JSON.parse(text).paths['/workflows/{id}'].get.operationId).toBe('getWorkflow');
    documents.set(binding.name, text);
    expect(text).toBe(documents.values().next().value);
  });

  it('serves the Swagger UI page and its assets from this origin under a strict CSP; other files are 404', async () => {
    const res = await fetch(url('/api-docs'));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
    const html = await res.text();
    expect(html).toContain('data-url="/openapi.json"');
    expect(html).not.toMatch(/https?:\/\//);
    const assets = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    expect(assets).toContain('/api-docs/init.js');
    for (const asset of assets) {
      const a = await fetch(url(asset));
      expect(a.status, asset).toBe(200);
      expect(a.headers.get('content-security-policy'), asset).toContain("script-src 'self'");
      await a.arrayBuffer();
    }
    for (const path of ['/api-docs/package.json', '/api-docs/..%2Fpackage.json']) {
      const miss = await fetch(url(path));
      await miss.arrayBuffer();
      expect(miss.status, path).toBe(404);
    }
  });

  it('validates and coerces the query, and strips undeclared fields from a valid response', async () => {
    const list = await fetch(url('/api/workflows?limit=1&status=draft'));
    expect(list.status).toBe(200);
    expect(await list.json()).toEqual({ items: [{ id: WORKFLOW_ID, name: 'Welcome', steps: [], status: 'draft' }] });
    const one = await fetch(url(`/api/workflows/${WORKFLOW_ID}`));
    expect(await one.json()).toEqual({
      id: WORKFLOW_ID,
      name: 'Welcome',
      steps: [{ type: 'email' }],
      status: 'active',
    });
  });

  it('lists every query issue in the API error format with 400', async () => {
    const res = await fetch(url('/api/workflows?limit=0&status=gone&extra=1'));
    expect(res.status).toBe(400);
    const body = await res.json();
    expect(body).toMatchObject({ success: false, error: { code: 'VALIDATION_ERROR' } });
    expect(issuesOf(body)).toEqual(['query::unrecognized_keys', 'query:limit:too_small', 'query:status:invalid_value']);
  });

  it('treats hostile query keys as plain unknown keys (__proto__, constructor), never as the prototype', async () => {
    const res = await fetch(url('/api/workflows?__proto__=a&__proto__=b&constructor=x&limit=1'));
    expect(res.status).toBe(400);
    expect(issuesOf(await res.json())).toEqual(['query::unrecognized_keys']);
  });

  it('rejects a bad path parameter with 400', async () => {
    const res = await fetch(url('/api/workflows/not-a-uuid'));
    expect(res.status).toBe(400);
    expect(issuesOf(await res.json())).toEqual(['params:id:invalid_format']);
  });

  it('creates with 201 and schema defaults; unknown body fields (mass assignment) get 400', async () => {
    const created = await fetch(url('/api/workflows'), {
      method: 'POST',
      headers: json,
      body: JSON.stringify({ name: 'New', steps: [{ type: 'wait' }] }),
    });
    expect(created.status).toBe(201);
    expect(await created.json()).toEqual({ id: WORKFLOW_ID, name: 'New', steps: [{ type: 'wait' }], status: 'draft' });
    const admin = await fetch(url('/api/workflows'), {
      method: 'POST',
      headers: json,
      body: JSON.stringify({ name: 'New', steps: [], isAdmin: true }),
    });
    expect(admin.status).toBe(400);
    expect(issuesOf(await admin.json())).toEqual(['body::unrecognized_keys']);
  });

  it('maps malformed JSON to 400 INVALID_JSON, an oversized body to 413, other media types to 415, an empty body to 400', async () => {
    const malformed = await fetch(url('/api/workflows'), { method: 'POST', headers: json, body: '{"name":' });
    expect(malformed.status).toBe(400);
    expect(await malformed.json()).toMatchObject({ success: false, error: { code: 'INVALID_JSON' } });
    const big = await fetch(url('/api/workflows'), {
      method: 'POST',
      headers: json,
      body: JSON.stringify({ name: 'x'.repeat(5_000), steps: [] }),
    });
    expect(big.status).toBe(413);
    expect(await big.json()).toMatchObject({ success: false, error: { code: 'PAYLOAD_TOO_LARGE' } });
    const text = await fetch(url('/api/workflows'), {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: 'name=x',
    });
    expect(text.status).toBe(415);
    expect(await text.json()).toMatchObject({ success: false, error: { code: 'UNSUPPORTED_MEDIA_TYPE' } });
    const empty = await fetch(url('/api/workflows'), { method: 'POST', headers: json });
    expect(empty.status).toBe(400);
    expect(await empty.json()).toMatchObject({ success: false, error: { code: 'VALIDATION_ERROR' } });
  });

  it('enforces the security scheme (401 without the key) and validates declared headers case-insensitively', async () => {
    const anonymous = await fetch(url('/api/whoami'), { headers: { 'x-tenant': 'acme' } });
    expect(anonymous.status).toBe(401);
    expect(await anonymous.json()).toMatchObject({ success: false, error: { code: 'UNAUTHENTICATED' } });
    const ok = await fetch(url('/api/whoami'), { headers: { authorization: `Bearer ${API_KEY}`, 'X-TENANT': 'acme' } });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ tenant: 'acme' });
    const short = await fetch(url('/api/whoami'), { headers: { authorization: `Bearer ${API_KEY}`, 'x-tenant': 'a' } });
    expect(short.status).toBe(400);
    expect(issuesOf(await short.json())).toEqual(['headers:X-Tenant:too_small']);
  });

  it('turns an invalid response body into a 500 in strict mode, naming the issues', async () => {
    const res = await fetch(url('/api/broken'));
    expect(res.status).toBe(500);
    const body = await res.json();
    expect(body).toMatchObject({ success: false, error: { code: 'RESPONSE_VALIDATION_ERROR' } });
    expect(issuesOf(body)).toEqual(['response:count:invalid_type']);
  });

  it('answers 204 without a body and HEAD on GET routes without a body', async () => {
    const removed = await fetch(url(`/api/workflows/${WORKFLOW_ID}`), { method: 'DELETE' });
    expect(removed.status).toBe(204);
    expect(await removed.text()).toBe('');
    const head = await fetch(url('/api/workflows?limit=1'), { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
  });
});
