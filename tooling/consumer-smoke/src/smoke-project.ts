import { execFileSync, spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { connect } from 'node:net';
import { join, resolve } from 'node:path';

/** The monorepo's root folder. */
export const repoRoot = resolve(import.meta.dirname, '../../..');

/** Libraries that keep a consumer's view in packages/<name>/smoke (esm.mjs, cjs.cjs, types.ts, optional deps.json). */
export const smokeLibraries = readdirSync(join(repoRoot, 'packages')).filter((name) =>
  existsSync(join(repoRoot, 'packages', name, 'smoke')),
);

const tsc = join(createRequire(join(repoRoot, 'package.json')).resolve('typescript/package.json'), '..', 'bin', 'tsc');

/** Runs a command and returns its stdout; on failure the error carries the command's whole output. */
export function run(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env): string {
  try {
    return execFileSync(command, args, { cwd, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string };
    throw new Error(`${command} ${args.join(' ')} failed:\n${stdout}${stderr}`, { cause: error });
  }
}

/** Extra npm packages the smoke snippets of `libraries` need (optional peers), plus Node's types. */
export function smokeExtraDeps(libraries: readonly string[]): string[] {
  const extra = new Set<string>(['@types/node@20']);
  for (const name of libraries) {
    const deps = join(repoRoot, 'packages', name, 'smoke', 'deps.json');
    if (existsSync(deps)) for (const d of JSON.parse(readFileSync(deps, 'utf8')) as string[]) extra.add(d);
  }
  return [...extra];
}

/**
 * Turns `dir` into a plain npm project outside the workspace, installs `specs` (tarball paths or
 * `name@version` from the configured registry) and copies each library's smoke snippets into it.
 */
export function prepareSmokeProject(
  dir: string,
  specs: readonly string[],
  libraries: readonly string[],
  npmrc = '',
): void {
  // fastify.inject's light-my-request 6.8 pulls cookie 2, which declares Node >= 22; the workspace holds 6.6 for Node 20
  // (pnpm-workspace.yaml), and so does the consumer, or an engine-strict npm refuses the install on Node 20.
  const overrides = { 'light-my-request': '6.6.0' };
  writeFileSync(
    join(dir, 'package.json'),
    JSON.stringify({ name: 'consumer', private: true, type: 'module', overrides }),
  );
  if (npmrc) writeFileSync(join(dir, '.npmrc'), npmrc);
  run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', ...specs, ...smokeExtraDeps(libraries)], dir);
  for (const [name, options] of Object.entries({
    node16: { module: 'node16', moduleResolution: 'node16' },
    bundler: { module: 'esnext', moduleResolution: 'bundler' },
  })) {
    writeFileSync(
      join(dir, `tsconfig.${name}.json`),
      JSON.stringify({
        compilerOptions: {
          ...options,
          target: 'es2022',
          strict: true,
          noEmit: true,
          skipLibCheck: false,
          types: ['node'],
        },
        include: ['*/types.ts', '*/types.cts'],
      }),
    );
  }
  for (const name of libraries) {
    const target = join(dir, name);
    mkdirSync(target, { recursive: true });
    const smoke = join(repoRoot, 'packages', name, 'smoke');
    for (const file of ['esm.mjs', 'cjs.cjs', 'types.ts']) copyFileSync(join(smoke, file), join(target, file));
    // The same typed usage once more as CommonJS, so node16 resolution checks the .d.cts side too.
    copyFileSync(join(smoke, 'types.ts'), join(target, 'types.cts'));
    // The README's snippets: apps (servers) and scripts that run to completion.
    for (const kind of ['apps', 'snippets']) {
      const from = join(smoke, kind);
      if (!existsSync(from)) continue;
      mkdirSync(join(target, kind));
      for (const file of readdirSync(from)) copyFileSync(join(from, file), join(target, kind, file));
    }
  }
}

/** The README snippets a library ships: smoke/apps (servers, e.g. express.mjs) or smoke/snippets (scripts). */
export function smokeApps(name: string, kind: 'apps' | 'snippets' = 'apps'): string[] {
  const dir = join(repoRoot, 'packages', name, 'smoke', kind);
  return existsSync(dir) ? readdirSync(dir).sort() : [];
}

/**
 * Starts one app snippet of `name` from the smoke project on a free port (its `PORT`), waits until it
 * answers, and returns its URL and a stop function that kills it.
 */
export async function startSmokeApp(
  dir: string,
  name: string,
  file: string,
  port: number,
): Promise<{ url: string; output: () => string; stop: () => Promise<void> }> {
  const child = spawn(process.execPath, [join(name, 'apps', file)], {
    cwd: dir,
    env: { ...process.env, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  };
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${name}/apps/${file} exited with ${child.exitCode}:\n${output}`);
    // A TCP connect, not a request: a request would count against the app's rate limits.
    const up = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => (socket.destroy(), resolve(true)));
      socket.once('error', () => resolve(false));
    });
    if (up) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`${name}/apps/${file} did not listen on ${port} within 20 s:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { url, output: () => output, stop };
}

/** Runs one library's ESM and CJS snippets; throws with their output when either fails. */
export function runSmoke(dir: string, name: string): { esm: string; cjs: string } {
  return { esm: run('node', [join(name, 'esm.mjs')], dir), cjs: run('node', [join(name, 'cjs.cjs')], dir) };
}

/** Type-checks every library's typed usage with moduleResolution node16 or bundler. */
export function typecheckSmoke(dir: string, config: 'node16' | 'bundler'): void {
  run('node', [tsc, '-p', `tsconfig.${config}.json`], dir);
}
