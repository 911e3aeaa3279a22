import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createExampleApp } from './example-app.js';
import { listen } from '@org/test-services';

describe('docs routes', () => {
  let server: Awaited<ReturnType<typeof listen>>;
  let example: ReturnType<typeof createExampleApp>;
  beforeAll(async () => {
    example = createExampleApp();
    server = await listen(example.app);
  });
  afterAll(() => server.close());

  it('serves the cached document at /openapi.json', async () => {
    const res = await fetch(`${server.url}/openapi.json`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(await res.text()).toBe(example.api.openapi.json);
  });

  it('serves Swagger UI with a strict CSP, no inline script and no external URL', async () => {
    const res = await fetch(`${server.url}/api-docs`);
    expect(res.status).toBe(200);
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toMatch(/script-src[^;]*(unsafe-inline|unsafe-eval|http)/);
    const html = await res.text();
    const scripts = [...html.matchAll(/<script([^>]*)>([\s\S]*?)<\/script>/g)];
    expect(scripts.length).toBeGreaterThanOrEqual(2);
    for (const [, attributes, body] of scripts) {
      expect(attributes).toMatch(/src="\/api-docs\//);
      expect(body!.trim()).toBe('');
    }
    expect(html).not.toMatch(/https?:\/\//);
    expect(html).not.toMatch(/\son[a-z]+=/i);
    expect(html).toContain('data-url="/openapi.json"');
  });

  it('serves every asset the page references from this origin', async () => {
    const html = await (await fetch(`${server.url}/api-docs`)).text();
    const urls = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    expect(urls).toContain('/api-docs/init.js');
    for (const url of urls) {
      const res = await fetch(`${server.url}${url}`);
      expect(res.status, url).toBe(200);
      expect(res.headers.get('content-security-policy'), url).toContain("script-src 'self'");
      await res.arrayBuffer();
    }
    const init = await (await fetch(`${server.url}/api-docs/init.js`)).text();
    expect(init).toContain('validatorUrl: null');
    expect((await fetch(`${server.url}/api-docs/package.json`)).status).toBe(404);
    expect((await fetch(`${server.url}/api-docs/..%2Fpackage.json`)).status).toBe(404);
  });

  it('serialises the document once when docs are on, and never when they are off', async () => {
    const stringify = vi.spyOn(JSON, 'stringify');
    try {
      const on = createExampleApp();
      const off = createExampleApp({ docs: false });
      const serialised = (document: unknown) => stringify.mock.calls.filter(([value]) => value === document).length;
      const served = await listen(on.app);
      try {
        for (let i = 0; i < 2; i++)
          expect(await (await fetch(`${served.url}/openapi.json`)).text()).toBe(on.api.openapi.json);
      } finally {
        await served.close();
      }
      expect(serialised(on.api.openapi.document)).toBe(1);
      expect(serialised(off.api.openapi.document)).toBe(0);
    } finally {
      stringify.mockRestore();
    }
  });

  it('serves neither route when disabled', async () => {
    const disabled = await listen(createExampleApp({ docs: false }).app);
    try {
      expect((await fetch(`${disabled.url}/openapi.json`)).status).toBe(404);
      expect((await fetch(`${disabled.url}/api-docs`)).status).toBe(404);
      expect((await fetch(`${disabled.url}/api-docs/swagger-ui-bundle.js`)).status).toBe(404);
    } finally {
      await disabled.close();
    }
  });
});
