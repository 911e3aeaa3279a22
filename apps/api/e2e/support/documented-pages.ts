// The pages whose curl lines the black-box suite replays against `pnpm start`, in this order and with one set of
// cookie jars across them (a login on one page holds for the pages after it). apps/api/docs/testing.md lists the same
// order under "Documented curl lines"; documented-pages.e2e.test.ts checks that both agree and that every page with a
// curl line is listed here, so no example in the docs goes untested.
import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { curlLines } from './readme-curl.js';
import { API_DIR, REPO_ROOT } from './paths.js';

/** Paths from the repository root, in replay order. */
export const DOCUMENTED_PAGES = [
  'README.md',
  'apps/api/README.md',
  'apps/api/docs/workflows.md',
  'apps/api/docs/jobs.md',
  'apps/api/docs/billing.md',
] as const;

/** Every Markdown page a reader of the service meets: the root README, apps/api/README.md and apps/api/docs/**. */
export function servicePages(): string[] {
  const pages = ['README.md', 'apps/api/README.md'];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.md')) pages.push(relative(REPO_ROOT, path));
    }
  };
  walk(join(API_DIR, 'docs'));
  return pages.sort();
}

/** The pages among `servicePages()` that hold at least one curl line in a shell code block. */
export function pagesWithCurlLines(): string[] {
  return servicePages().filter((page) => curlLines(join(REPO_ROOT, page)).length > 0);
}
