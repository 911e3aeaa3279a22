import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

/*
 * The folder rules of src/, checked on the import specifiers of every non-test file. The fakes (fakes/) and the tests'
 * fixtures and support (test/) are never part of what `pnpm start` runs in production: src/ does not import them,
 * except the demo loader, which loads the fake GHL on demand in demo mode.
 */
const SRC = import.meta.dirname;
const PACKAGE = resolve(SRC, '..');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') && !e.name.endsWith('test-support.ts') ? [join(dir, e.name)] : []));
}

/** Relative specifiers of `import ... from`, `export ... from`, `import('...')` and `new URL('...', import.meta.url)`. */
export function specifiersOf(text: string): string[] {
  return [...text.matchAll(/(?:\bfrom\s+|\bimport\s*\(\s*|\bimport\s+|\bnew URL\(\s*)'(\.{1,2}\/[^']*)'/g)].map((m) => m[1]!);
}

interface Edge {
  /** The importing file, relative to src/. */
  file: string;
  /** The imported path, relative to the package folder (apps/api). */
  target: string;
}

function edges(): Edge[] {
  return sources(SRC).flatMap((abs) => specifiersOf(readFileSync(abs, 'utf8')).map((spec) => ({ file: relative(SRC, abs), target: relative(PACKAGE, resolve(dirname(abs), spec)) })));
}

/** The one file that may load the fakes (dynamically, in demo mode). */
const DEMO_LOADER = 'demo/demo-mode.ts';

describe('architecture', () => {
  const all = edges();

  it('src/ never imports test/ and only the demo loader imports fakes/', () => {
    const outside = all.filter((e) => e.target.startsWith('test/') || (e.target.startsWith('fakes/') && e.file !== DEMO_LOADER)).map((e) => `${e.file} -> ${e.target}`);
    expect(outside).toEqual([]);
  });

  it('the demo loader loads the fakes only with a dynamic import (a type import is erased)', () => {
    const text = readFileSync(join(SRC, DEMO_LOADER), 'utf8');
    const staticValueImports = [...text.matchAll(/^import\s+(?!type\b)[^;]*from\s+'([^']*fakes\/[^']*)'/gm)].map((m) => m[1]);
    expect(staticValueImports).toEqual([]);
    expect(text).toMatch(/await import\('[^']*fakes\/ghl\/server\.js'\)/);
  });
});
