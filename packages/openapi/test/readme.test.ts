import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

// The README's framework snippets are the files the consumer smoke test runs from the packed tarball.
const root = new URL('../', import.meta.url);
const readme = readFileSync(new URL('README.md', root), 'utf8');
const apps = readdirSync(new URL('smoke/apps/', root));

describe('README "Use with Express / Fastify / Hono"', () => {
  it.each(apps)('shows smoke/apps/%s verbatim', (file) => {
    const code = readFileSync(new URL(`smoke/apps/${file}`, root), 'utf8').trimEnd();
    expect(readme).toContain('```js\n' + code + '\n```');
  });

  it('covers Express, Fastify and Hono', () => {
    expect(apps).toEqual(['express.mjs', 'fastify.mjs', 'hono.mjs']);
  });
});
