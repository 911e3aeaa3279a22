import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

/*
 * The analyzer is meant to be published on its own: apart from the CLI, no file may do I/O, read
 * the clock or import the app's frameworks. Tests and test support are exempt.
 */
function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

const root = import.meta.dirname;
const files = sources(root).filter(
  (f) => !f.endsWith('.test.ts') && !f.endsWith('test-support.ts') && !f.endsWith('cli.ts'),
);

describe('analyzer purity', () => {
  it.each(files.map((f) => relative(root, f)))(
    '%s imports only zod and its own modules, and reads no clock',
    (file) => {
      const text = readFileSync(join(root, file), 'utf8');
      const imports = [...text.matchAll(/from\s+'([^']+)'/g)].map((m) => m[1]!);
      expect(imports.filter((i) => i !== 'zod' && !i.startsWith('./') && !i.startsWith('../'))).toEqual([]);
      // Relative imports stay inside the analysis folder.
      expect(
        imports.filter(
          (i) => i.startsWith('.') && relative(root, resolve(dirname(join(root, file)), i)).startsWith('..'),
        ),
      ).toEqual([]);
      expect(text).not.toMatch(/\bDate\.now\(|new Date\(|performance\.now\(|process\.|Math\.random\(/);
    },
  );
});
