/**
 * The import graph of a TypeScript source tree, read the way TypeScript's own pre-processor reads imports (type-only
 * imports, re-exports and dynamic imports included: they couple modules as much as value imports do), and the cycles
 * of any graph. Each package's architecture test asserts its `src/` has none.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, posix, relative, sep } from 'node:path';
import ts from 'typescript';

/** A directed graph: node → the nodes it points to. */
export type Graph = ReadonlyMap<string, Iterable<string>>;

/** Module graph of a source tree: file (relative, posix) → the files of the same tree it imports. */
export type ModuleGraph = Map<string, string[]>;

/**
 * Every import, type-only import, re-export and dynamic import between the given sources (file → text). Relative
 * specifiers ending in `.js` resolve to the `.ts` file or the folder's `index.ts`; package imports and relative imports
 * that leave the tree are left out. A relative import inside the tree that names no source throws.
 */
export function moduleGraph(sources: ReadonlyMap<string, string>): ModuleGraph {
  const graph: ModuleGraph = new Map();
  for (const [file, text] of sources) {
    const edges: string[] = [];
    for (const { fileName } of ts.preProcessFile(text, true, true).importedFiles) {
      if (!fileName.startsWith('.')) continue;
      const base = posix.normalize(posix.join(posix.dirname(file), fileName)).replace(/\.js$/, '');
      if (base.startsWith('../')) continue;
      const target = [`${base}.ts`, `${base}/index.ts`].find((candidate) => sources.has(candidate));
      if (!target) throw new Error(`${file}: cannot resolve ${fileName}`);
      edges.push(target);
    }
    graph.set(file, edges);
  }
  return graph;
}

/**
 * The cycles of a graph: each strongly connected component of more than one node, or a node pointing to itself
 * (Tarjan's algorithm), each sorted, in the order found from the sorted nodes.
 */
export function cycles(graph: Graph): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next);
    next++;
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || [...(graph.get(v) ?? [])].includes(v)) found.push(component.sort());
    }
  };
  for (const v of [...graph.keys()].sort()) if (!index.has(v)) visit(v);
  return found;
}

/** The `.ts` files under `dir` (tests, declarations and `exclude`d files left out), keyed by their posix path relative to `dir`. */
export function readSources(dir: string, exclude: (file: string) => boolean = () => false): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string): void => {
    for (const name of readdirSync(d).sort()) {
      const path = join(d, name);
      const file = relative(dir, path).split(sep).join('/');
      if (statSync(path).isDirectory()) walk(path);
      else if (name.endsWith('.ts') && !name.endsWith('.test.ts') && !name.endsWith('.d.ts') && !exclude(file))
        out.set(file, readFileSync(path, 'utf8'));
    }
  };
  walk(dir);
  return out;
}
