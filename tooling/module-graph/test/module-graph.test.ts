import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cycles, moduleGraph, readSources } from '../src/index.js';

const graphOf = (files: Record<string, string>) => moduleGraph(new Map(Object.entries(files)));

describe('moduleGraph', () => {
  it('reads value, type-only, re-export, side-effect and dynamic imports, resolving `.js` to the file or the folder index', () => {
    const graph = graphOf({
      'a.ts': [
        "import { b } from './b.js';",
        "import type { C } from './c.js';",
        "export * from './x/index.js';",
        "import './d.js';",
        "const e = await import('./e.js');",
      ].join('\n'),
      'b.ts': "export { y } from './y/index.js';",
      'c.ts': "import { z } from 'zod';",
      'd.ts': '',
      'e.ts': "import { a } from './a.js';",
      'x/index.ts': "import { b } from '../b.js';",
      'y/index.ts': '',
    });
    expect(graph.get('a.ts')).toEqual(['b.ts', 'c.ts', 'x/index.ts', 'd.ts', 'e.ts']);
    expect(graph.get('b.ts')).toEqual(['y/index.ts']);
    expect(graph.get('c.ts')).toEqual([]);
    expect(graph.get('x/index.ts')).toEqual(['b.ts']);
  });

  it('leaves out relative imports that leave the tree, and throws for one inside it that names no file', () => {
    expect(graphOf({ 'a.ts': "import { f } from '../fakes/server.js';" }).get('a.ts')).toEqual([]);
    expect(() => graphOf({ 'a.ts': "import { b } from './b.js';" })).toThrow('a.ts: cannot resolve ./b.js');
  });
});

describe('cycles', () => {
  const cyclesOf = (files: Record<string, string>) => cycles(graphOf(files));

  it('finds a cycle made of type-only imports, a re-export or a folder index, and a file importing itself', () => {
    expect(cyclesOf({ 'a.ts': "import type { B } from './b.js';", 'b.ts': "import { a } from './a.js';" })).toEqual([
      ['a.ts', 'b.ts'],
    ]);
    expect(
      cyclesOf({
        'a.ts': "export * from './x/index.js';",
        'x/index.ts': "export { c } from '../c.js';",
        'c.ts': "import type { X } from './x/index.js';",
      }),
    ).toEqual([['c.ts', 'x/index.ts']]);
    expect(cyclesOf({ 'a.ts': "import './a.js';" })).toEqual([['a.ts']]);
    expect(cyclesOf({ 'a.ts': "import type { B } from './b.js';", 'b.ts': "import { z } from 'zod';" })).toEqual([]);
  });

  it('finds every cycle of any length in a graph of named nodes, and none in a DAG', () => {
    const graph = new Map<string, string[]>([
      ['a', ['b']],
      ['b', ['c']],
      ['c', ['d', 'a']],
      ['d', ['e']],
      ['e', ['f']],
      ['f', ['d']],
      ['g', ['a']],
    ]);
    expect(cycles(graph)).toEqual([
      ['d', 'e', 'f'],
      ['a', 'b', 'c'],
    ]);
    expect(
      cycles(
        new Map([
          ['a', ['b', 'c']],
          ['b', ['c']],
          ['c', []],
        ]),
      ),
    ).toEqual([]);
  });
});

describe('readSources', () => {
  const dir = mkdtempSync(join(tmpdir(), 'module-graph-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads the .ts files of a tree by posix path, without tests, declarations and excluded files', () => {
    mkdirSync(join(dir, 'x'));
    for (const file of ['a.ts', 'a.test.ts', 'b.d.ts', 'x/index.ts', 'x/helper-support.ts', 'notes.md'])
      writeFileSync(join(dir, file), `// ${file}`);
    const sources = readSources(dir, (file) => file.endsWith('-support.ts'));
    expect([...sources.keys()]).toEqual(['a.ts', 'x/index.ts']);
    expect(sources.get('x/index.ts')).toBe('// x/index.ts');
  });
});
