// The README's Quick start, as a new user meets it: a fresh clone, a shell with node and npm but no pnpm (npm's global
// prefix inside the temporary folder), the block's first line run as written (it installs pnpm and every dependency
// from the registry, builds, and starts the API), /health up on :3000, then the second line checked against what CI
// runs. Slow (an install and a full build): it runs under CI=true, or with E2E_QUICK_START=1.
import { execFileSync, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { waitFor } from '@org/test-services';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from './support/paths.js';
import { startProcess, tail, waitForHttp, type UserProcess } from './support/process.js';

const enabled = process.env.CI === 'true' || process.env.CI === '1' || process.env.E2E_QUICK_START === '1';
if (!enabled)
  console.warn(
    '[e2e] skipping the README quick start (installs from the registry, minutes): it runs under CI=true or with E2E_QUICK_START=1',
  );

/** The commands of the first code block under "## Quick start" in README.md, comments dropped. */
function quickStartCommands(readme: string): string[] {
  const lines = readme.split('\n');
  const heading = lines.findIndex((l) => /^##\s+Quick start\s*$/i.test(l));
  if (heading < 0) throw new Error('README.md has no "## Quick start" section');
  const open = lines.findIndex((l, i) => i > heading && /^\s*```/.test(l));
  const close = lines.findIndex((l, i) => i > open && /^\s*```\s*$/.test(l));
  if (open < 0 || close < 0) throw new Error('the Quick start section has no code block');
  return lines
    .slice(open + 1, close)
    .map((l) => l.replace(/(^|\s)#.*$/, '').trim())
    .filter((l) => l.length > 0);
}

/** A folder of links to every program on the system PATH except pnpm (and corepack, which could provide it). */
function pathWithoutPnpm(dir: string): string {
  mkdirSync(dir, { recursive: true });
  const systemDirs = (process.env.PATH ?? '')
    .split(delimiter)
    .filter((d) => d && !d.includes('node_modules') && existsSync(d));
  for (const d of systemDirs) {
    for (const name of readdirSync(d)) {
      if (/^(pnpm|pnpx|corepack)/.test(name) || existsSync(join(dir, name))) continue;
      try {
        if (statSync(join(d, name)).isFile()) symlinkSync(join(d, name), join(dir, name));
      } catch {
        // a dangling link on the system PATH
      }
    }
  }
  return dir;
}

async function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

describe.skipIf(!enabled)('README quick start on a fresh clone', () => {
  // Made in the test: a skipped describe still runs its body.
  let root: string | undefined;
  let proc: UserProcess | undefined;
  afterAll(async () => {
    await proc?.stop();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it(
    'line 1 installs pnpm and the dependencies, builds and starts the API on :3000; line 2 is what .ci/run runs',
    async () => {
      const t0 = performance.now();
      root = mkdtempSync(join(tmpdir(), 'api-quick-start-'));
      const clone = join(root, 'repo');
      const prefix = join(root, 'npm-global');
      execFileSync('git', ['clone', '--quiet', REPO_ROOT, clone]);
      const commands = quickStartCommands(readFileSync(join(clone, 'README.md'), 'utf8'));
      expect(commands.length).toBe(2);

      const env = {
        PATH: [join(prefix, 'bin'), pathWithoutPnpm(join(root, 'system-bin'))].join(delimiter),
        HOME: process.env.HOME ?? root,
        npm_config_prefix: prefix,
      };
      const has = (program: string) =>
        spawnSync('sh', ['-c', `command -v ${program}`], { env, encoding: 'utf8' }).status === 0;
      expect([has('node'), has('npm'), has('pnpm')]).toEqual([true, true, false]);

      // :3000 is the port the README promises; nothing else in the test suites binds it (they use free ports).
      for (let i = 0; !(await portFree(3000)); i++) {
        if (i >= 60) {
          const who = spawnSync('sh', ['-c', "ss -ltnp 'sport = :3000' 2>/dev/null"], { encoding: 'utf8' }).stdout;
          throw new Error(
            `port 3000 is in use by another process, so the README quick start cannot serve on it; free it and run again\n${who}`,
          );
        }
        await new Promise((r) => setTimeout(r, 1_000));
      }

      proc = startProcess('bash', ['-c', commands[0]!], { cwd: clone, env });
      try {
        await waitForHttp(proc, 'http://127.0.0.1:3000/health', 15 * 60_000);
      } catch (error) {
        const hint = /EADDRINUSE/.test(proc.output())
          ? '\nport 3000 was taken by another process while the quick start installed and built'
          : '';
        throw new Error(`${(error as Error).message}${hint}`, { cause: error });
      }
      const upMs = performance.now() - t0;
      // /health answers as soon as the server listens; the ready line follows once migrated.
      await waitFor(
        'the "api ready" log line',
        async () => proc!.output().includes('api ready on http://127.0.0.1:3000'),
        120_000,
        200,
      );
      const health = await fetch('http://127.0.0.1:3000/health');
      expect(health.status).toBe(200);
      expect(await health.json()).toMatchObject({ status: expect.any(String), version: expect.any(String) });
      const installed = spawnSync(join(prefix, 'bin', 'pnpm'), ['--version'], { env, encoding: 'utf8' });
      expect(installed.stdout.trim()).toMatch(/^10\./);

      await proc.stop();
      expect(await portFree(3000)).toBe(true);
      console.log(`quick start: clone to /health on :3000 in ${(upMs / 1000).toFixed(0)} s\n${tail(proc.output(), 3)}`);

      // Line 2: a package script of the clone, and the command .ci/run runs.
      const [tool, script, ...rest] = commands[1]!.split(/\s+/);
      expect([tool, rest]).toEqual(['pnpm', []]);
      const manifest = JSON.parse(readFileSync(join(clone, 'package.json'), 'utf8')) as {
        scripts: Record<string, string>;
      };
      expect(manifest.scripts[script!], `package.json has no "${script}" script`).toEqual(expect.any(String));
      const ciLines = readFileSync(join(clone, '.ci/run'), 'utf8')
        .split('\n')
        .map((l) => l.replace(/(^|\s)#.*$/, '').trim());
      expect(
        ciLines.some((l) => l === commands[1] || l.startsWith(`${commands[1]} `)),
        `.ci/run does not run "${commands[1]}"`,
      ).toBe(true);
    },
    20 * 60_000,
  );
});
