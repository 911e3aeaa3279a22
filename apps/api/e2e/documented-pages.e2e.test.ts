// The documented curl lines are all replayed: every page of the service's docs that holds a curl line is in the replay
// order of support/documented-pages.ts, and apps/api/docs/testing.md documents that same order. No server needed.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DOCUMENTED_PAGES, pagesWithCurlLines, servicePages } from './support/documented-pages.js';
import { API_DIR } from './support/paths.js';

/** The links of the numbered list under "## Documented curl lines" in docs/testing.md, as repository paths. */
function orderInTestingPage(): string[] {
  const text = readFileSync(join(API_DIR, 'docs/testing.md'), 'utf8');
  const section = /^## Documented curl lines\n([\s\S]*?)(?=^## |(?![\s\S]))/m.exec(text);
  if (!section) throw new Error('docs/testing.md has no "## Documented curl lines" section');
  return [...section[1]!.matchAll(/^\d+\.\s+\[[^\]]*\]\(([^)]+)\)/gm)]
    .map((m) => m[1]!)
    .map((link) => {
      const path = new URL(link, 'file:///repo/apps/api/docs/').pathname;
      return path.replace(/^\/repo\//, '');
    });
}

describe('documented curl lines', () => {
  it('finds the service pages (root README, apps/api README, apps/api/docs)', () => {
    const pages = servicePages();
    expect(pages).toContain('README.md');
    expect(pages).toContain('apps/api/README.md');
    expect(pages).toContain('apps/api/docs/testing.md');
  });

  it('every page with a curl line is replayed by the black-box suite', () => {
    const missing = pagesWithCurlLines().filter((page) => !(DOCUMENTED_PAGES as readonly string[]).includes(page));
    expect(
      missing,
      'add these pages to DOCUMENTED_PAGES (e2e/support/documented-pages.ts) and docs/testing.md',
    ).toEqual([]);
  });

  it('every replayed page exists and is a service page', () => {
    expect(DOCUMENTED_PAGES.filter((page) => !servicePages().includes(page))).toEqual([]);
  });

  it('docs/testing.md documents the replay order', () => {
    expect(orderInTestingPage()).toEqual([...DOCUMENTED_PAGES]);
  });
});
