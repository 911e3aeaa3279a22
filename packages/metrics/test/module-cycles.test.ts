import { describe, expect, it } from 'vitest';
import { moduleCycles, moduleGraph, readSources, srcDir } from './module-graph.js';

describe('module graph of src/', () => {
  const graph = moduleGraph(readSources(srcDir));

  it('has no import cycle (type-only imports and re-exports included)', () => {
    expect(moduleCycles(graph)).toEqual([]);
  });

  it('reads the real graph: every entry point and the modules it imports', () => {
    for (const entry of ['index.ts', 'express/index.ts', 'fastify/index.ts', 'hono/index.ts'])
      expect(graph.has(entry), entry).toBe(true);
    expect(graph.get('index.ts')).toEqual(expect.arrayContaining(['metrics.ts', 'types.ts', 'exposition.ts']));
    expect(graph.get('http/recorder.ts')).toEqual(
      expect.arrayContaining(['definitions.ts', 'types.ts', 'series-histogram.ts']),
    );
    // The public types import no module of the package, so any module may import them.
    expect(graph.get('types.ts')).toEqual([]);
  });

  it('finds a cycle made of type-only imports, a re-export or a folder index', () => {
    const cycles = (files: Record<string, string>) => moduleCycles(moduleGraph(new Map(Object.entries(files))));
    expect(cycles({ 'a.ts': "import type { B } from './b.js';", 'b.ts': "import { a } from './a.js';" })).toEqual([
      ['a.ts', 'b.ts'],
    ]);
    expect(
      cycles({
        'a.ts': "export * from './x/index.js';",
        'x/index.ts': "export { c } from '../c.js';",
        'c.ts': "import type { X } from './x/index.js';",
      }),
    ).toEqual([['c.ts', 'x/index.ts']]);
    expect(cycles({ 'a.ts': "import './a.js';" })).toEqual([['a.ts']]);
    expect(cycles({ 'a.ts': "import type { B } from './b.js';", 'b.ts': "import { z } from 'zod';" })).toEqual([]);
  });
});
