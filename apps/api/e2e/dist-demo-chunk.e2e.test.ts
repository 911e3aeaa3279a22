// The build (tsup) of `pnpm start`: the fake GHL of demo mode is a chunk of its own that the entries load on demand,
// never a static import of dist/main.js or dist/worker.js (what a production start loads).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { API_DIR } from './support/paths.js';

const DIST = join(API_DIR, 'dist');

/** Every file an entry loads before running: its static `import ... from "./x.js"` closure. */
function staticClosure(entry: string): Set<string> {
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    const text = readFileSync(join(DIST, file), 'utf8');
    for (const m of text.matchAll(/^(?:import|export)\s[^;]*?from\s*"\.\/([^"]+)"|^import\s*"\.\/([^"]+)"/gm))
      visit(m[1] ?? m[2]!);
  };
  visit(entry);
  return seen;
}

const definesFakeGhl = (file: string) => /function startFakeGhl\(/.test(readFileSync(join(DIST, file), 'utf8'));

describe('the build', () => {
  it.each(['main.js', 'worker.js'])(
    '%s does not load the fake GHL statically; demo mode imports its chunk on demand',
    (entry) => {
      const closure = [...staticClosure(entry)];
      expect(closure.length).toBeGreaterThan(1);
      expect(closure.filter(definesFakeGhl)).toEqual([]);
      const loader = closure.find(
        (f) =>
          /await import\("\.\/[^"]+"\)/.test(readFileSync(join(DIST, f), 'utf8')) &&
          readFileSync(join(DIST, f), 'utf8').includes('startFakeGhl'),
      );
      expect(loader).toBeDefined();
      const chunk = /startFakeGhl[^;]*await import\("\.\/([^"]+)"\)/.exec(
        readFileSync(join(DIST, loader!), 'utf8'),
      )?.[1];
      expect(chunk && definesFakeGhl(chunk)).toBe(true);
    },
  );
});
