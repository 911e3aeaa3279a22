import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, posix, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

/** Module graph of a source tree: file (relative, posix) → the files of the same tree it imports. */
export type ModuleGraph = Map<string, string[]>;

/**
 * Every import, type-only import, re-export and dynamic import between the given sources (file → text), as
 * TypeScript's own pre-processor reads them. Relative specifiers ending in `.js` resolve to the `.ts` file or the
 * folder's `index.ts`; package imports are left out.
 */
export function moduleGraph(sources: ReadonlyMap<string, string>): ModuleGraph {
  const graph: ModuleGraph = new Map();
  for (const [file, text] of sources) {
    const edges: string[] = [];
    for (const { fileName } of ts.preProcessFile(text, true, true).importedFiles) {
      if (!fileName.startsWith('.')) continue;
      const base = posix.normalize(posix.join(posix.dirname(file), fileName)).replace(/\.js$/, '');
      const target = [`${base}.ts`, `${base}/index.ts`].find((candidate) => sources.has(candidate));
      if (!target) throw new Error(`${file}: cannot resolve ${fileName}`);
      edges.push(target);
    }
    graph.set(file, edges);
  }
  return graph;
}

/** The module cycles of a graph: each strongly connected component of more than one file, or a file importing itself. */
export function moduleCycles(graph: ModuleGraph): string[][] {
  // Tarjan's algorithm.
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
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
      if (component.length > 1 || (graph.get(v) ?? []).includes(v)) cycles.push(component.sort());
    }
  };
  for (const v of [...graph.keys()].sort()) if (!index.has(v)) visit(v);
  return cycles;
}

/** The `.ts` files under `dir` (tests excluded), keyed by their posix path relative to `dir`. */
export function readSources(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string): void => {
    for (const name of readdirSync(d).sort()) {
      const path = join(d, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (name.endsWith('.ts') && !name.endsWith('.test.ts') && !name.endsWith('.d.ts'))
        out.set(relative(dir, path).split(sep).join('/'), readFileSync(path, 'utf8'));
    }
  };
  walk(dir);
  return out;
}

export const srcDir = fileURLToPath(new URL('../src/', import.meta.url));
