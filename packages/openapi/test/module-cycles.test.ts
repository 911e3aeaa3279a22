import { fileURLToPath } from 'node:url';
import { cycles, moduleGraph, readSources } from '@org/module-graph';
import { describe, expect, it } from 'vitest';

describe('module graph of src/', () => {
  const graph = moduleGraph(readSources(fileURLToPath(new URL('../src/', import.meta.url))));

  it('has no import cycle (type-only imports and re-exports included)', () => {
    expect(cycles(graph)).toEqual([]);
  });

  it('reads the real graph: every entry point and the modules it imports', () => {
    for (const entry of ['index.ts', 'express/index.ts', 'fastify/index.ts', 'hono/index.ts'])
      expect(graph.has(entry), entry).toBe(true);
    expect(graph.get('index.ts')).toEqual(expect.arrayContaining(['route.ts', 'document.ts', 'types.ts']));
    // The public types import no module of the package, so any module may import them.
    expect(graph.get('types.ts')).toEqual([]);
  });
});
