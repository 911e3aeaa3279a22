// The suite is black-box: no file under e2e/ imports the app's source (src/); it meets the app only as a user does.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { API_DIR } from './support/paths.js';

const E2E = join(API_DIR, 'e2e');
const files = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((d) =>
    d.isDirectory() ? files(join(dir, d.name)) : d.name.endsWith('.ts') ? [join(dir, d.name)] : [],
  );

describe('e2e/ is black-box', () => {
  it('imports nothing from src/ (nor the app package itself)', () => {
    const offenders: string[] = [];
    for (const file of files(E2E)) {
      const text = readFileSync(file, 'utf8');
      for (const m of text.matchAll(/(?:from\s+|import\s*\(\s*|import\s+)['"]([^'"]+)['"]/g)) {
        const spec = m[1]!;
        const inSrc = spec.startsWith('.') && resolve(dirname(file), spec).startsWith(join(API_DIR, 'src'));
        if (inSrc || spec === 'api' || spec.startsWith('api/'))
          offenders.push(`${file.slice(API_DIR.length)}: ${spec}`);
      }
    }
    expect(files(E2E).length).toBeGreaterThan(5);
    expect(offenders).toEqual([]);
  });
});
