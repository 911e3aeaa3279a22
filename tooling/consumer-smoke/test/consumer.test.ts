import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer } from 'node:net';
import {
  prepareSmokeProject,
  repoRoot,
  run,
  runSmoke,
  smokeApps,
  smokeLibraries,
  startSmokeApp,
  typecheckSmoke,
} from '../src/smoke-project.js';

let project = '';
const tarballs = () => readdirSync(join(project, '.tarballs')).map((f) => join(project, '.tarballs', f));

beforeAll(() => {
  project = mkdtempSync(join(tmpdir(), 'org-consumer-'));
  mkdirSync(join(project, '.tarballs'));
  // pnpm pack rewrites workspace: ranges, exactly as `changeset publish` will.
  for (const name of smokeLibraries)
    run('pnpm', ['pack', '--pack-destination', join(project, '.tarballs')], join(repoRoot, 'packages', name));
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
    const root = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as {
      license: string;
      repository: { url: string };
      bugs: unknown;
    };
    const manifest = JSON.parse(run('tar', ['-xzOf', tarball, 'package/package.json'], project)) as Record<
      string,
      unknown
    >;
    // One repository URL for every package: the root package.json's.
    const web = root.repository.url.replace(/^git\+/, '').replace(/\.git$/, '');
    expect(manifest.license).toBe(root.license);
    expect(manifest.repository).toEqual({ ...root.repository, directory: `packages/${name}` });
    expect(manifest.homepage).toBe(`${web}/tree/main/packages/${name}#readme`);
    expect(manifest.bugs).toEqual(root.bugs);
    expect(root.license).toBe('MIT');
    expect(run('tar', ['-xzOf', tarball, 'package/LICENSE'], project)).toBe(
      readFileSync(join(repoRoot, 'LICENSE'), 'utf8'),
    );
  });
});

describe.each(['node16', 'bundler'] as const)('TypeScript consumer with moduleResolution %s', (config) => {
  it('type-checks against every package', () => {
    expect(() => typecheckSmoke(project, config)).not.toThrow();
  });
});

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** What each library's README app must do once installed from the tarballs. */
const appChecks: Record<string, (url: string) => Promise<void>> = {
  // The documented check: 25 anonymous GETs, requests 21-25 get 429 with the coded body.
  'tiered-rate-limit': async (url) => {
    const statuses: number[] = [];
    let last: Response | undefined;
    for (let i = 0; i < 25; i++) {
      last = await fetch(`${url}/api/workflows`);
      statuses.push(last.status);
      if (i < 24) await last.arrayBuffer();
    }
    expect(statuses).toEqual([...Array(20).fill(200), ...Array(5).fill(429)]);
    expect(await last!.json()).toMatchObject({
      success: false,
      error: { code: 'RATE_LIMIT_EXCEEDED', currentTier: 'free', limits: { current: 20 } },
    });
    expect(last!.headers.get('x-ratelimit-remaining')).toBe('0');
    expect(Number(last!.headers.get('retry-after'))).toBeGreaterThan(0);
  },
  // The route label is the template, never the id.
  metrics: async (url) => {
    expect((await fetch(`${url}/api/workflows/4242`)).status).toBe(200);
    const body = await (await fetch(`${url}/metrics`)).text();
    expect(body).toContain('http_requests_total{method="GET",route="/api/workflows/:id",status_code="200"} 1');
    // No label carries the id (a sample value may contain the digits by chance: an event-loop lag of 0.0142424...).
    expect(body).not.toMatch(/\{[^}]*4242[^}]*\}/);
  },
};

// Defined in each README app: GET /api/items/:id with a positive integer id.
appChecks.openapi = async (url) => {
  const ok = await fetch(`${url}/api/items/7`);
  expect(ok.status).toBe(200);
  expect(await ok.json()).toEqual({ id: 7 });
  const bad = await fetch(`${url}/api/items/seven`);
  expect(bad.status).toBe(400);
  expect(await bad.json()).toMatchObject({ success: false, error: { code: 'VALIDATION_ERROR' } });
  const doc = (await (await fetch(`${url}/openapi.json`)).json()) as { paths: Record<string, unknown> };
  expect(Object.keys(doc.paths)).toEqual(['/items/{id}']);
  const page = await fetch(`${url}/api-docs`);
  expect(page.status).toBe(200);
  expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
  await page.arrayBuffer();
};

const appCases = smokeLibraries.flatMap((name) => smokeApps(name).map((file) => [name, file] as const));

describe.each(appCases)('@org/%s README app %s, installed from the tarballs', (name, file) => {
  it('starts and passes its documented check', async () => {
    const check = appChecks[name];
    expect(check, `no check for ${name}`).toBeDefined();
    const app = await startSmokeApp(project, name, file, await freePort());
    try {
      await check!(app.url);
    } finally {
      await app.stop();
    }
  });
});

/** What each library's README script must print once installed from the tarballs. */
const snippetOutputs: Record<string, string> = {
  'cache/cache-manager.mjs': "{ name: 'Ada' }\ncomputed once\n",
};

const snippetCases = smokeLibraries.flatMap((name) => smokeApps(name, 'snippets').map((file) => [name, file] as const));

describe.each(snippetCases)('@org/%s README snippet %s, installed from the tarballs', (name, file) => {
  it('runs and prints what the README shows', () => {
    // Without REDIS_URL: the snippet's keys stay out of the shared Redis (the Redis path is covered by the package's tests).
    const { REDIS_URL: _unused, ...env } = process.env;
    expect(run('node', [join(name, 'snippets', file)], project, env)).toBe(snippetOutputs[`${name}/${file}`]);
  });
});
