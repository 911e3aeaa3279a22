import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// Each library keeps its consumer's view in packages/<name>/smoke: esm.mjs, cjs.cjs, types.ts and,
// optionally, deps.json (extra npm packages the snippets need, such as optional peers).
const root = resolve(import.meta.dirname, '../../..');
const libraries = readdirSync(join(root, 'packages')).filter((name) => existsSync(join(root, 'packages', name, 'smoke')));
const tsc = join(createRequire(join(root, 'package.json')).resolve('typescript/package.json'), '..', 'bin', 'tsc');

function run(command: string, args: string[], cwd: string): string {
  try {
    return execFileSync(command, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string };
    throw new Error(`${command} ${args.join(' ')} failed:\n${stdout}${stderr}`, { cause: error });
  }
}

let project = '';

beforeAll(() => {
  project = mkdtempSync(join(tmpdir(), 'org-consumer-'));
  const tarballs = join(project, 'tarballs');
  mkdirSync(tarballs);
  const extra = new Set<string>(['@types/node@20']);
  for (const name of libraries) {
    // pnpm pack rewrites workspace: ranges, exactly as `changeset publish` will.
    run('pnpm', ['pack', '--pack-destination', tarballs], join(root, 'packages', name));
    const deps = join(root, 'packages', name, 'smoke', 'deps.json');
    if (existsSync(deps)) for (const d of JSON.parse(readFileSync(deps, 'utf8')) as string[]) extra.add(d);
  }
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
  const files = readdirSync(tarballs).map((f) => join(tarballs, f));
  run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', ...files, ...extra], project);
  for (const [name, options] of Object.entries({
    node16: { module: 'node16', moduleResolution: 'node16' },
    bundler: { module: 'esnext', moduleResolution: 'bundler' },
  })) {
    writeFileSync(join(project, `tsconfig.${name}.json`), JSON.stringify({ compilerOptions: { ...options, target: 'es2022', strict: true, noEmit: true, skipLibCheck: false, types: ['node'] }, include: ['*/types.ts', '*/types.cts'] }));
  }
  for (const name of libraries) {
    const dir = join(project, name);
    mkdirSync(dir);
    const smoke = join(root, 'packages', name, 'smoke');
    for (const file of ['esm.mjs', 'cjs.cjs', 'types.ts']) copyFileSync(join(smoke, file), join(dir, file));
    copyFileSync(join(smoke, 'types.ts'), join(dir, 'types.cts'));
  }
});

afterAll(() => {
  if (project) rmSync(project, { recursive: true, force: true });
});

describe.each(libraries)('@org/%s installed from its tarball', (name) => {
  it('works when imported from ESM', () => {
    expect(run('node', [join(name, 'esm.mjs')], project)).toContain('esm ok');
  });

  it('works when required from CJS', () => {
    expect(run('node', [join(name, 'cjs.cjs')], project)).toContain('cjs ok');
  });

  it('ships no tests, fixtures or sources outside dist', () => {
    const listing = run('tar', ['-tzf', readdirSync(join(project, 'tarballs')).map((f) => join(project, 'tarballs', f)).find((f) => f.includes(`org-${name}-`))!], project);
    expect(listing).not.toMatch(/\.test\.|\/test\/|\/fixtures\/|\/smoke\//);
  });
});

describe.each(['node16', 'bundler'])('TypeScript consumer with moduleResolution %s', (config) => {
  it('type-checks against every package', () => {
    run('node', [tsc, '-p', `tsconfig.${config}.json`], project);
  });
});
