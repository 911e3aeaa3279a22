// `pnpm release:verify`: the release pipeline, proven end to end on this machine.
//
// In a throwaway copy of the repository it adds a changeset, runs the release workflow's own commands
// (`pnpm version-packages`, then `pnpm release`) against a private Verdaccio on 127.0.0.1 with no
// uplinks, and then installs what was published into a fresh npm project and uses it from ESM, CJS and
// TypeScript. A probe package that depends on @org/cache (it exists only in the copy) shows internal
// dependency bumps and that a dependent resolves its @org dependency from the registry.
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { prepareSmokeProject, repoRoot, run, runSmoke, smokeLibraries, typecheckSmoke } from '@org/consumer-smoke';

const keep = process.env.KEEP_RELEASE_VERIFY === '1';
const work = mkdtempSync(join(tmpdir(), 'org-release-'));
const step = (text: string) => console.log(`\n== ${text}`);
let verdaccio: ChildProcess | undefined;

function check(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(`release verification failed: ${message}`);
  console.log(`ok - ${message}`);
}

async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolvePort(address.port) : reject(new Error('no port')),
      );
    });
  });
}

async function startRegistry(): Promise<{ url: string; token: string }> {
  const dir = join(work, 'registry');
  mkdirSync(dir);
  const port = await freePort();
  writeFileSync(
    join(dir, 'config.yaml'),
    [
      `storage: ${join(dir, 'storage')}`,
      'auth:',
      '  htpasswd:',
      `    file: ${join(dir, 'htpasswd')}`,
      'uplinks: {}',
      'packages:',
      "  '**':",
      '    access: $all',
      '    publish: $authenticated',
      '    unpublish: $authenticated',
      'logs: { type: stdout, format: pretty, level: error }',
      'publish:',
      '  allow_offline: true',
      '',
    ].join('\n'),
  );
  const bin = join(dirname(createRequire(import.meta.url).resolve('verdaccio/package.json')), 'bin', 'verdaccio');
  verdaccio = spawn(process.execPath, [bin, '--config', join(dir, 'config.yaml'), '--listen', `127.0.0.1:${port}`], {
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}/`;
  for (let i = 0; ; i++) {
    try {
      if ((await get(`${url}-/ping`)).ok) break;
    } catch {
      // not listening yet
    }
    if (i > 150) throw new Error('Verdaccio did not start within 30 s');
    await new Promise((r) => setTimeout(r, 200));
  }
  const res = await fetch(`${url}-/user/org.couchdb.user:release`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'release', password: 'release-verify-only' }),
  });
  const { token } = (await res.json()) as { token?: string };
  if (!token) throw new Error(`could not create the Verdaccio user (${res.status})`);
  return { url, token };
}

/** GET with a retry: Verdaccio closes idle keep-alive sockets that fetch may try to reuse. */
async function get(url: string): Promise<Response> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fetch(url);
    } catch (error) {
      if (attempt >= 3) throw error;
    }
  }
}

async function packument(
  registry: string,
  name: string,
): Promise<{
  status: number;
  body: {
    versions?: Record<
      string,
      { dependencies?: Record<string, string>; dist: { tarball: string; unpackedSize?: number; fileCount?: number } }
    >;
  };
}> {
  const res = await get(`${registry}${name.replace('/', '%2f')}`);
  return { status: res.status, body: res.status === 200 ? ((await res.json()) as never) : {} };
}

const pkgJson = (dir: string) =>
  JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
    name: string;
    version: string;
    private?: boolean;
    dependencies?: Record<string, string>;
  };

async function main() {
  step('private registry');
  const { url: registry, token } = await startRegistry();
  console.log(`Verdaccio at ${registry} (storage ${join(work, 'registry', 'storage')}, no uplinks)`);
  const scoped = `@org:registry=${registry}\n//${registry.slice('http://'.length)}:_authToken=${token}\n`;

  step('throwaway copy of the repository');
  const copy = join(work, 'repo');
  const files = run('git', ['ls-files', '-co', '--exclude-standard'], repoRoot)
    .split('\n')
    .filter((f) => f && existsSync(join(repoRoot, f)));
  for (const file of files) cpSync(join(repoRoot, file), join(copy, file), { recursive: true });
  writeFileSync(join(copy, '.npmrc'), `${readFileSync(join(repoRoot, '.npmrc'), 'utf8')}${scoped}`);
  const probe = join(copy, 'packages', 'release-probe');
  mkdirSync(probe);
  const cacheRange = 'workspace:^';
  writeFileSync(
    join(probe, 'package.json'),
    JSON.stringify(
      {
        name: '@org/release-probe',
        version: '0.0.0',
        type: 'module',
        exports: { '.': { import: './index.js', require: './index.cjs' } },
        files: ['index.js', 'index.cjs'],
        publishConfig: { access: 'public' },
        dependencies: { '@org/cache': cacheRange },
      },
      null,
      2,
    ),
  );
  writeFileSync(join(probe, 'index.js'), "export * as cache from '@org/cache';\n");
  writeFileSync(join(probe, 'index.cjs'), "module.exports = { cache: require('@org/cache') };\n");
  writeFileSync(
    join(copy, '.changeset', 'release-verify.md'),
    '---\n"@org/cache": minor\n---\n\nRelease verification entry.\n',
  );
  run('git', ['init', '-q', '-b', 'main'], copy);
  run('git', ['-c', 'user.email=ci@example.invalid', '-c', 'user.name=release-verify', 'add', '-A'], copy);
  run('git', ['-c', 'user.email=ci@example.invalid', '-c', 'user.name=release-verify', 'commit', '-qm', 'copy'], copy);
  run('pnpm', ['install', '--no-frozen-lockfile', '--prefer-offline', '--reporter=silent'], copy);

  step('pnpm version-packages (changeset version), as release.yml runs it');
  const before = Object.fromEntries(smokeLibraries.map((n) => [n, pkgJson(join(copy, 'packages', n)).version]));
  console.log(run('pnpm', ['version-packages'], copy));
  const cache = pkgJson(join(copy, 'packages', 'cache'));
  const probeAfter = pkgJson(probe);
  check(cache.version !== before.cache, `@org/cache bumped ${before.cache} -> ${cache.version}`);
  check(
    readFileSync(join(copy, 'packages', 'cache', 'CHANGELOG.md'), 'utf8').includes('Release verification entry.'),
    '@org/cache CHANGELOG.md has the entry',
  );
  check(
    probeAfter.version !== '0.0.0',
    `dependent @org/release-probe bumped 0.0.0 -> ${probeAfter.version} (internal dependency bump)`,
  );
  check(!existsSync(join(copy, '.changeset', 'release-verify.md')), 'the consumed changeset was removed');
  check(!existsSync(join(copy, 'apps', 'api', 'CHANGELOG.md')), 'the private app was not versioned');

  step('pnpm release (build + changeset publish), as release.yml runs it');
  console.log(
    run('pnpm', ['release'], copy, { ...process.env, TURBO_TELEMETRY_DISABLED: '1', npm_config_provenance: 'false' }),
  );
  const published: { name: string; version: string; dir: string }[] = [
    ...smokeLibraries.map((n) => ({ dir: join(copy, 'packages', n) })),
    { dir: probe },
  ].map(({ dir }) => ({ ...pkgJson(dir), dir }));
  for (const p of published) {
    const { status, body } = await packument(registry, p.name);
    check(status === 200 && body.versions?.[p.version], `${p.name}@${p.version} is on the registry`);
  }
  const probeMeta = (await packument(registry, '@org/release-probe')).body.versions![probeAfter.version]!;
  check(
    probeMeta.dependencies?.['@org/cache'] === `^${cache.version}`,
    `workspace:^ rewritten to ^${cache.version} in the published @org/release-probe`,
  );
  check((await packument(registry, 'api')).status === 404, 'the private app (api) was not published');

  step('publishing an unchanged version');
  const again = run('pnpm', ['exec', 'changeset', 'publish'], copy, { ...process.env, npm_config_provenance: 'false' });
  check(
    !/Publishing "/.test(again) && !/New tag/.test(again),
    'changeset publish publishes nothing when every version is already on the registry',
  );
  let refused = '';
  try {
    run('pnpm', ['publish', '--no-git-checks'], join(copy, 'packages', 'cache'), {
      ...process.env,
      npm_config_provenance: 'false',
    });
  } catch (error) {
    refused = String((error as Error).message);
  }
  check(
    /cannot publish over|EPUBLISHCONFLICT|E409|E403|previously published/i.test(refused),
    `a direct re-publish of @org/cache@${cache.version} is refused: "${/npm error (.*)/.exec(refused)?.[1] ?? refused.slice(-200)}"`,
  );

  step('a fresh npm project installs from the registry');
  const consumer = join(work, 'consumer');
  mkdirSync(consumer);
  prepareSmokeProject(
    consumer,
    [...published.map((p) => `${p.name}@${p.version}`)],
    smokeLibraries,
    `@org:registry=${registry}\n`,
  );
  for (const name of smokeLibraries) {
    const { esm, cjs } = runSmoke(consumer, name);
    check(esm.includes('esm ok') && cjs.includes('cjs ok'), `@org/${name} works from ESM and CJS`);
  }
  for (const config of ['node16', 'bundler'] as const) {
    typecheckSmoke(consumer, config);
    check(true, `types compile with moduleResolution ${config}`);
  }
  const resolvedCache = pkgJson(join(consumer, 'node_modules', '@org', 'cache'));
  check(
    resolvedCache.version === cache.version,
    `@org/release-probe's dependency resolved from the registry as @org/cache@${resolvedCache.version}`,
  );
  writeFileSync(
    join(consumer, 'probe.cjs'),
    "const { cache } = require('@org/release-probe'); if (typeof cache.CacheError !== 'function' && typeof cache.createCache !== 'function') throw new Error('probe'); console.log('probe ok');\n",
  );
  check(
    run('node', ['probe.cjs'], consumer).includes('probe ok'),
    '@org/release-probe loads @org/cache through the registry install',
  );

  step('published versions and tarball sizes');
  const rows = [];
  for (const p of published) {
    const [packed] = JSON.parse(run('npm', ['pack', '--dry-run', '--json', '--loglevel=error'], p.dir)) as {
      size: number;
      unpackedSize: number;
      entryCount: number;
    }[];
    rows.push(
      `| ${p.name} | ${p.version} | ${(packed!.size / 1024).toFixed(1)} kB | ${(packed!.unpackedSize / 1024).toFixed(1)} kB | ${packed!.entryCount} |`,
    );
  }
  console.log(
    ['| package | version | tarball | unpacked | files |', '| --- | --- | --- | --- | --- |', ...rows].join('\n'),
  );
  console.log('\nrelease verification passed');
}

try {
  await main();
} finally {
  verdaccio?.kill('SIGKILL');
  if (keep) console.log(`kept ${work}`);
  else rmSync(work, { recursive: true, force: true });
}
