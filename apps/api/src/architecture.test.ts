import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { cycles, moduleGraph, readSources } from '@org/module-graph';
import { describe, expect, it } from 'vitest';

/*
 * The folder rules of src/, checked on the relative import specifiers of every non-test file (type imports count:
 * they couple folders as much as value imports do).
 *
 * - The fakes (fakes/) and the tests' fixtures and support (test/) are never part of what `pnpm start` runs in
 *   production: src/ does not import them, except the demo loader, which loads the fake GHL on demand in demo mode.
 * - Dependencies point inward: features/* use the adapters (ghl/, db/, jobs/, auth/) and http/'s error and routing
 *   helpers; a feature's domain files (everything but its routes, module and job glue) never see HTTP; the adapters and
 *   http/ never import a feature; the analyzer (analysis/) imports nothing outside itself; only the composition root
 *   (src/*.ts) imports app/.
 * - No cycle among the folders (src's top-level folders, each features/* on its own), of any length, and none among
 *   the modules.
 */
const SRC = import.meta.dirname;
const PACKAGE = resolve(SRC, '..');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory()
      ? sources(join(dir, e.name))
      : e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') && !e.name.endsWith('test-support.ts')
        ? [join(dir, e.name)]
        : [],
  );
}

/** Relative specifiers of `import ... from`, `export ... from`, `import('...')` and `new URL('...', import.meta.url)`. */
export function specifiersOf(text: string): string[] {
  return [...text.matchAll(/(?:\bfrom\s+|\bimport\s*\(\s*|\bimport\s+|\bnew URL\(\s*)'(\.{1,2}\/[^']*)'/g)].map(
    (m) => m[1]!,
  );
}

interface Edge {
  /** The importing file, relative to src/. */
  file: string;
  /** The imported path, relative to the package folder (apps/api). */
  target: string;
}

function edges(): Edge[] {
  return sources(SRC).flatMap((abs) =>
    specifiersOf(readFileSync(abs, 'utf8')).map((spec) => ({
      file: relative(SRC, abs),
      target: relative(PACKAGE, resolve(dirname(abs), spec)),
    })),
  );
}

/** The one file that may load the fakes (dynamically, in demo mode). */
const DEMO_LOADER = 'demo/demo-mode.ts';

/** The folder of a file relative to src/: its top-level folder, `features/<name>` inside features/, '.' at the root. */
export function folderOf(file: string): string {
  const parts = file.split('/');
  if (parts.length === 1) return '.';
  return parts[0] === 'features' ? `features/${parts[1]}` : parts[0]!;
}

/** Folder → the folders it imports (never itself). */
function folderGraph(list: readonly Edge[]): Map<string, Set<string>> {
  const graph = new Map<string, Set<string>>();
  for (const e of list) {
    if (e.target.startsWith('..') || !e.target.startsWith('src/')) continue;
    const from = folderOf(e.file);
    const to = folderOf(e.target.slice('src/'.length));
    if (!graph.has(from)) graph.set(from, new Set());
    if (from !== to) graph.get(from)!.add(to);
  }
  return graph;
}

/** Folder cycles tolerated for now, each as its sorted folder list. Empty: the folders form a DAG. */
const ALLOWED_CYCLES: string[][] = [];

/** The http/ modules a feature may import: errors, the router options and the error catalog (and its application). */
const HTTP_FOR_FEATURES = new Set([
  'src/http/errors.ts',
  'src/http/routing.ts',
  'src/http/error-catalog.ts',
  'src/http/error-handler.ts',
]);
/** A feature's HTTP-facing files: its routers, its composition (module.ts), the rate limiter and the job glue. */
const HTTP_FACING = /(?:^|-)routes\.ts$|^module\.ts$|^rate-limit\.ts$|^analysis-job\.ts$/;

describe('architecture', () => {
  const all = edges();
  const target = (e: Edge) => e.target.replace(/\.js$/, '.ts');
  const show = (e: Edge) => `${e.file} -> ${e.target}`;

  it('src/ never imports test/ and only the demo loader imports fakes/', () => {
    const outside = all
      .filter((e) => e.target.startsWith('test/') || (e.target.startsWith('fakes/') && e.file !== DEMO_LOADER))
      .map((e) => `${e.file} -> ${e.target}`);
    expect(outside).toEqual([]);
  });

  it('the demo loader loads the fakes only with a dynamic import (a type import is erased)', () => {
    const text = readFileSync(join(SRC, DEMO_LOADER), 'utf8');
    const staticValueImports = [...text.matchAll(/^import\s+(?!type\b)[^;]*from\s+'([^']*fakes\/[^']*)'/gm)].map(
      (m) => m[1],
    );
    expect(staticValueImports).toEqual([]);
    expect(text).toMatch(/await import\('[^']*fakes\/ghl\/server\.js'\)/);
  });

  it('has no cycle among its folders (allow-list: none)', () => {
    const graph = folderGraph(all);
    expect(graph.size).toBeGreaterThan(10);
    expect(cycles(graph)).toEqual(ALLOWED_CYCLES);
  });

  it('has no cycle among its modules (type-only imports and re-exports included)', () => {
    const graph = moduleGraph(readSources(SRC, (file) => file.endsWith('test-support.ts')));
    expect(graph.get('main.ts')).toBeDefined();
    expect(cycles(graph)).toEqual([]);
  });

  it('the analyzer imports nothing outside analysis/', () => {
    expect(
      all.filter((e) => folderOf(e.file) === 'analysis' && !e.target.startsWith('src/analysis/')).map(show),
    ).toEqual([]);
  });

  it('http/ and the adapters (ghl/, db/, jobs/, auth/, cache/, config/) never import a feature, app/ or the composition root', () => {
    const lower = new Set(['http', 'ghl', 'db', 'jobs', 'auth', 'cache', 'config', 'analysis']);
    const upper = (t: string) =>
      t.startsWith('src/features/') ||
      t.startsWith('src/app/') ||
      t.startsWith('src/routes/') ||
      t.startsWith('src/demo/') ||
      folderOf(t.slice('src/'.length)) === '.';
    expect(all.filter((e) => lower.has(folderOf(e.file)) && upper(e.target)).map(show)).toEqual([]);
  });

  it('http/ imports no authentication, GHL or job code (the app in app/ composes them)', () => {
    expect(
      all.filter((e) => folderOf(e.file) === 'http' && /^src\/(auth|ghl|jobs)\//.test(e.target)).map(show),
    ).toEqual([]);
  });

  it('features import only http/ errors, routing and the error catalog, and their domain files no HTTP at all', () => {
    const fromFeatures = all.filter((e) => e.file.startsWith('features/') && e.target.startsWith('src/http/'));
    expect(fromFeatures.filter((e) => !HTTP_FOR_FEATURES.has(target(e))).map(show)).toEqual([]);
    expect(fromFeatures.filter((e) => !HTTP_FACING.test(e.file.split('/').at(-1)!)).map(show)).toEqual([]);
    expect(
      all
        .filter(
          (e) =>
            e.file.startsWith('features/') &&
            (e.target.startsWith('src/app/') || folderOf(e.target.slice('src/'.length)) === '.'),
        )
        .map(show),
    ).toEqual([]);
  });

  it('only the composition root imports app/', () => {
    expect(
      all
        .filter((e) => e.target.startsWith('src/app/') && folderOf(e.file) !== '.' && folderOf(e.file) !== 'app')
        .map(show),
    ).toEqual([]);
  });

  it('the checks see the imports (the parser finds the known edges)', () => {
    expect(all.map(show)).toContain('compose.ts -> src/features/workflows/module.js');
    expect(
      cycles(
        new Map([
          ['a', new Set(['b'])],
          ['b', new Set(['c'])],
          ['c', new Set(['a'])],
          ['d', new Set(['a'])],
        ]),
      ),
    ).toEqual([['a', 'b', 'c']]);
  });
});
