import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VALID_API_KEY, VALID_SESSION, createExampleApp } from './example-app.js';
import { listen } from '@org/test-services';

// Hand-written arbitraries per example schema (no zod-v4 arbitrary generator works on npm, see
// shared research): valid inputs must never be rejected, anything else must never give a 5xx.
const RUNS = Number(process.env.FUZZ_RUNS ?? 60);
const auth = { cookie: `sid=${VALID_SESSION}`, authorization: `Bearer ${VALID_API_KEY}` };

const step = fc.record(
  {
    type: fc.constantFrom('send_email', 'send_sms', 'wait', 'webhook'),
    delaySeconds: fc.integer({ min: 0, max: 86_400 }),
  },
  { requiredKeys: ['type'] },
);
const workflowBody = fc.record(
  {
    name: fc.string({ minLength: 1, maxLength: 120 }),
    status: fc.constantFrom('draft', 'active', 'paused'),
    steps: fc.array(step, { maxLength: 5 }),
  },
  { requiredKeys: ['name', 'steps'] },
);
const email = fc
  .tuple(fc.stringMatching(/^[a-z0-9]{1,12}$/), fc.stringMatching(/^[a-z]{1,10}$/))
  .map(([user, domain]) => `${user}@${domain}.com`);
const contactBody = fc.record(
  {
    email,
    name: fc.string({ minLength: 1, maxLength: 200 }),
    tags: fc.array(fc.string({ minLength: 1, maxLength: 40 }), { maxLength: 20 }),
  },
  { requiredKeys: ['email', 'name'] },
);
const workflowQuery = fc.record(
  {
    status: fc.constantFrom('draft', 'active', 'paused'),
    limit: fc.integer({ min: 1, max: 100 }).map(String),
    cursor: fc.string({ maxLength: 200 }),
  },
  { requiredKeys: [] },
);
const contactQuery = fc.record({ tag: fc.string({ minLength: 1, maxLength: 40 }), email }, { requiredKeys: [] });
const hugeString = fc.integer({ min: 1_000, max: 90_000 }).map((n) => 'x'.repeat(n));
const protoKey = fc.constantFrom('__proto__', 'constructor', 'prototype');

const POSTS = ['/workflows', '/contacts'];
const LISTS = ['/workflows', '/contacts'];

describe('fuzzing every route of the example app over HTTP', () => {
  let server: Awaited<ReturnType<typeof listen>>;
  let base: string;
  beforeAll(async () => {
    server = await listen(createExampleApp().app);
    base = `${server.url}/api`;
  });
  afterAll(() => server.close());

  async function call(
    method: string,
    path: string,
    body?: string,
    contentType = 'application/json',
  ): Promise<{ status: number; json: unknown }> {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: body === undefined ? auth : { ...auth, 'content-type': contentType },
      body,
    });
    const text = await res.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = text;
    }
    if (res.status >= 400) {
      // Every error is in the API format, with no stack or parser internals.
      expect(json, `${method} ${path} -> ${res.status}`).toMatchObject({
        success: false,
        error: { code: expect.any(String), message: expect.any(String) },
      });
      expect(text).not.toMatch(/SyntaxError|at .*\.(js|ts):\d+|node_modules/);
    }
    return { status: res.status, json };
  }

  it('accepts every valid workflow body', async () => {
    await fc.assert(
      fc.asyncProperty(workflowBody, fc.uuid(), async (body, unique) => {
        const { status } = await call(
          'POST',
          '/workflows',
          JSON.stringify({ ...body, name: `${body.name.slice(0, 80)} ${unique}` }),
        );
        expect(status).toBe(201);
      }),
      { numRuns: RUNS },
    );
  });

  it('accepts every valid contact body', async () => {
    await fc.assert(
      fc.asyncProperty(contactBody, fc.uuid(), async (body, unique) => {
        const { status } = await call(
          'POST',
          '/contacts',
          JSON.stringify({ ...body, email: `${unique.slice(0, 8)}.${body.email}` }),
        );
        expect(status).toBe(201);
      }),
      { numRuns: RUNS },
    );
  });

  it('accepts every valid query of the list routes', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...LISTS), workflowQuery, contactQuery, async (path, wq, cq) => {
        const query = new URLSearchParams(path === '/workflows' ? wq : cq).toString();
        const { status } = await call('GET', `${path}?${query}`);
        expect(status).toBe(200);
      }),
      { numRuns: RUNS },
    );
  });

  it('accepts every valid id and answers 200 or 404', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('/workflows/', '/contacts/'), fc.uuid({ version: 4 }), async (path, id) => {
        expect([200, 404]).toContain((await call('GET', `${path}${id}`)).status);
      }),
      { numRuns: RUNS },
    );
  });

  it('never gives a 5xx for arbitrary JSON bodies', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...POSTS),
        fc.oneof(
          fc.json(),
          fc.jsonValue().map((v) => JSON.stringify(v)),
        ),
        async (path, body) => {
          expect((await call('POST', path, body)).status).toBeLessThan(500);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('never gives a 5xx for arbitrary bytes and content types', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...POSTS),
        fc.string({ maxLength: 300 }),
        fc.constantFrom(
          'application/json',
          'text/plain',
          'application/x-www-form-urlencoded',
          'application/merge-patch+json',
          'application/json; charset=latin1',
        ),
        async (path, body, type) => {
          expect((await call('POST', path, body, type)).status).toBeLessThan(500);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('rejects __proto__/constructor keys anywhere in a strict body and never pollutes prototypes', async () => {
    await fc.assert(
      fc.asyncProperty(workflowBody, protoKey, fc.jsonValue(), fc.boolean(), async (body, key, value, nested) => {
        const inner = nested
          ? `{"type":"wait","${key}":${JSON.stringify(value ?? null)}}`
          : JSON.stringify(body.steps[0] ?? { type: 'wait' });
        const text = `{"name":${JSON.stringify(body.name)},"steps":[${inner}]${nested ? '' : `,"${key}":{"polluted":true}`}}`;
        const { status } = await call('POST', '/workflows', text);
        expect(status).toBe(400);
        expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      }),
      { numRuns: RUNS },
    );
  });

  it('rejects huge strings with 400 (over the schema max) or 413 (over the body limit), never 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...POSTS), hugeString, async (path, huge) => {
        const body = path === '/workflows' ? { name: huge, steps: [] } : { email: 'a@b.com', name: huge };
        expect((await call('POST', path, JSON.stringify(body))).status).toBe(400);
      }),
      { numRuns: Math.ceil(RUNS / 3) },
    );
    const tooLarge = await call('POST', '/workflows', JSON.stringify({ name: 'x'.repeat(150_000), steps: [] }));
    expect(tooLarge.status).toBe(413);
  });

  it('never gives a 5xx for arbitrary queries, proto keys and long values (URL kept under the 16 KB header limit of Node)', async () => {
    const value = fc.oneof(
      fc.string({ maxLength: 50 }),
      hugeString.map((s) => s.slice(0, 2_000)),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...LISTS),
        fc.dictionary(fc.oneof(fc.string({ minLength: 1, maxLength: 20 }), protoKey), value, { maxKeys: 5 }),
        async (path, query) => {
          const params = new URLSearchParams();
          for (const [k, v] of Object.entries(query)) params.append(k, v);
          const { status } = await call('GET', `${path}?${params.toString()}`);
          expect([200, 400]).toContain(status);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('never gives a 5xx for arbitrary path segments', async () => {
    await fc.assert(
      // "." and ".." are dot segments: the URL parser removes them before sending, so they would address the list route.
      fc.asyncProperty(
        fc.constantFrom('/workflows/', '/contacts/'),
        fc.string({ minLength: 1, maxLength: 100 }).filter((s) => s !== '.' && s !== '..'),
        async (path, segment) => {
          expect([400, 404]).toContain((await call('GET', `${path}${encodeURIComponent(segment)}`)).status);
        },
      ),
      { numRuns: RUNS },
    );
  });
});
