import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

// The README's snippets are the files the consumer smoke test runs from the packed tarball.
const root = new URL('../', import.meta.url);
const readme = readFileSync(new URL('README.md', root), 'utf8');
const snippets = readdirSync(new URL('smoke/snippets/', root));

describe('README "Use with Keyv, cache-manager, cacheable and NestJS"', () => {
  it.each(snippets)('shows smoke/snippets/%s verbatim', (file) => {
    const code = readFileSync(new URL(`smoke/snippets/${file}`, root), 'utf8').trimEnd();
    expect(readme).toContain('```js\n' + code + '\n```');
  });
});
