import { fileURLToPath } from 'node:url';
import { cycles, moduleGraph, readSources } from '@org/module-graph';
import { describe, expect, it } from 'vitest';

describe('module graph of src/', () => {
  const graph = moduleGraph(readSources(fileURLToPath(new URL('../src/', import.meta.url))));

  it('has no import cycle (type-only imports and re-exports included)', () => {
    expect(cycles(graph)).toEqual([]);
  });

  it('reads the real graph: every entry point and the modules it imports', () => {
    for (const entry of ['index.ts', 'keyv/index.ts']) expect(graph.has(entry), entry).toBe(true);
    expect(graph.get('index.ts')).toEqual(expect.arrayContaining(['cache.ts', 'types.ts', 'errors.ts']));
    // The shared state's types are what every module sees of the core; they never import it.
    expect(graph.get('core.ts')).toEqual(expect.arrayContaining(['state.ts', 'single-flight.ts', 'invalidation.ts']));
    expect(graph.get('state.ts')).not.toContain('core.ts');
  });
});
