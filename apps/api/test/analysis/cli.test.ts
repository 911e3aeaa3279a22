import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/* Runs the real bin as a child process, the way `pnpm --filter api exec ghl-health` does. */
const appDir = join(import.meta.dirname, '../..');
const bin = join(appDir, 'bin/ghl-health.mjs');
const folder = 'fakes/ghl/workflows';

function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [bin, ...args], { cwd: appDir, timeout: 60_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr });
    });
  });
}

describe('ghl-health CLI', () => {
  let tmp: string;
  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'ghl-health-'));
  });
  afterAll(async () => {
    await rm(tmp, { recursive: true, force: true });
  });

  it('analyses the fixture folder as JSON, one entry per workflow file', async () => {
    const { code, stdout, stderr } = await run(['analyze', folder, '--format', 'json']);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const results = JSON.parse(stdout) as {
      file: string;
      workflowId: string;
      score: number;
      band: string;
      findings: { ruleId: string; stepId: string | null }[];
    }[];
    expect(results).toHaveLength(12);
    expect(results.map((r) => r.file).every((f) => !f.includes('expected.json') && !f.includes('_locations'))).toBe(
      true,
    );
    const reactivation = results.find((r) => r.file.endsWith('dental-reactivation-campaign.json'))!;
    expect(reactivation).toMatchObject({
      workflowId: '2131b35d-8546-53d3-857c-5ef0c31c2985',
      score: 0,
      band: 'critical',
    });
    expect(Object.keys(reactivation.findings[0]!).sort()).toEqual(['fix', 'message', 'ruleId', 'severity', 'stepId']);
    // The folder's _locations.json is the inventory: reference checks ran.
    const roofing = results.find((r) => r.file.endsWith('roofing-pipeline-stage-automation.json'))!;
    expect(roofing.findings.map((f) => f.ruleId)).toContain('reference.missing-pipeline');
    // Cross-workflow rules saw the whole folder.
    expect(
      results.find((r) => r.file.endsWith('coaching-hot-lead-alert.json'))!.findings.map((f) => f.ruleId),
    ).toContain('loop.cross-workflow');
  });

  it('prints a table by default', async () => {
    const { code, stdout } = await run(['analyze', folder]);
    expect(code).toBe(0);
    expect(stdout).toMatch(/dental-reactivation-campaign\.json\s+0\/100\s+critical/);
    expect(stdout).toContain('loop.tag-retrigger');
    expect(stdout).toContain('fix: ');
    expect(stdout).toContain('Locations:');
  });

  it('analyses single files with an explicit inventory', async () => {
    const { code, stdout } = await run([
      'analyze',
      `${folder}/roofing-pipeline-stage-automation.json`,
      '--inventory',
      `${folder}/_locations.json`,
      '--format=json',
    ]);
    expect(code).toBe(0);
    const [result] = JSON.parse(stdout) as { findings: { ruleId: string }[] }[];
    expect(result!.findings.map((f) => f.ruleId)).toEqual(
      expect.arrayContaining(['reference.missing-user', 'reference.missing-custom-field']),
    );
  });

  it('exits 2 and lists every problem for invalid definitions', async () => {
    const bad = join(tmp, 'bad.json');
    const notJson = join(tmp, 'not-json.json');
    await writeFile(bad, JSON.stringify({ name: 3, workflowData: { templates: [] } }));
    await writeFile(notJson, '{ nope');
    const { code, stdout, stderr } = await run(['analyze', bad, notJson, join(tmp, 'missing.json')]);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toContain('invalid input');
    expect(stderr).toContain('bad.json');
    expect(stderr).toContain('locationId');
    expect(stderr).toContain('not valid JSON');
    expect(stderr).toContain('no such file or folder');
  });

  it('exits 2 on an invalid inventory, a bad option and a missing command', async () => {
    const inventory = join(tmp, 'inv.json');
    await writeFile(inventory, JSON.stringify({ locations: { x: { users: [{}] } } }));
    expect((await run(['analyze', folder, '--inventory', inventory])).code).toBe(2);
    const badFormat = await run(['analyze', folder, '--format', 'xml']);
    expect(badFormat.code).toBe(2);
    expect(badFormat.stderr).toContain('--format must be table or json');
    expect((await run([])).code).toBe(2);
  });

  it('is linked as a bin of the api package (pnpm exec ghl-health)', async () => {
    const { code, stdout } = await new Promise<{ code: number; stdout: string }>((resolve) => {
      execFile(
        'pnpm',
        ['exec', 'ghl-health', 'analyze', `${folder}/dental-missed-call-text-back.json`, '--format', 'json'],
        { cwd: appDir, timeout: 60_000 },
        (error, out) => resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout: out }),
      );
    });
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toMatchObject([{ score: 100, band: 'healthy', findings: [] }]);
  });

  it('prints usage with --help and exits 0', async () => {
    const { code, stdout } = await run(['--help']);
    expect(code).toBe(0);
    expect(stdout).toContain('Usage: ghl-health analyze');
  });
});
