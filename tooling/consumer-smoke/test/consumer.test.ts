import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prepareSmokeProject, repoRoot, run, runSmoke, smokeLibraries, typecheckSmoke } from '../src/smoke-project.js';

let project = '';
const tarballs = () => readdirSync(join(project, '.tarballs')).map((f) => join(project, '.tarballs', f));

beforeAll(() => {
  project = mkdtempSync(join(tmpdir(), 'org-consumer-'));
  mkdirSync(join(project, '.tarballs'));
  // pnpm pack rewrites workspace: ranges, exactly as `changeset publish` will.
  for (const name of smokeLibraries) run('pnpm', ['pack', '--pack-destination', join(project, '.tarballs')], join(repoRoot, 'packages', name));
  prepareSmokeProject(project, tarballs(), smokeLibraries);
});

afterAll(() => {
  if (project) rmSync(project, { recursive: true, force: true });
});

describe.each(smokeLibraries)('@org/%s installed from its tarball', (name) => {
  it('works when imported from ESM and required from CJS', () => {
    const { esm, cjs } = runSmoke(project, name);
    expect(esm).toContain('esm ok');
    expect(cjs).toContain('cjs ok');
  });

  it('ships no tests, fixtures or smoke files', () => {
    const tarball = tarballs().find((f) => f.includes(`org-${name}-`))!;
    const listing = run('tar', ['-tzf', tarball], project);
    expect(listing).toContain('package/dist/index.js');
    expect(listing).not.toMatch(/\.test\.|\/test\/|\/fixtures\/|\/smoke\/|\/src\//);
  });
});

describe.each(smokeLibraries)('@org/%s package metadata', (name) => {
  it('ships the MIT LICENSE and the repository metadata of the root package.json', () => {
    const tarball = tarballs().find((f) => f.includes(`org-${name}-`))!;
    const root = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { license: string; repository: { url: string }; bugs: unknown };
    const manifest = JSON.parse(run('tar', ['-xzOf', tarball, 'package/package.json'], project)) as Record<string, unknown>;
    // One repository URL for every package: the root package.json's.
    const web = root.repository.url.replace(/^git\+/, '').replace(/\.git$/, '');
    expect(manifest.license).toBe(root.license);
    expect(manifest.repository).toEqual({ ...root.repository, directory: `packages/${name}` });
    expect(manifest.homepage).toBe(`${web}/tree/main/packages/${name}#readme`);
    expect(manifest.bugs).toEqual(root.bugs);
    expect(root.license).toBe('MIT');
    expect(run('tar', ['-xzOf', tarball, 'package/LICENSE'], project)).toBe(readFileSync(join(repoRoot, 'LICENSE'), 'utf8'));
  });
});

describe.each(['node16', 'bundler'] as const)('TypeScript consumer with moduleResolution %s', (config) => {
  it('type-checks against every package', () => {
    expect(() => typecheckSmoke(project, config)).not.toThrow();
  });
});
