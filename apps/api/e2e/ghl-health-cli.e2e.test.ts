// The `ghl-health` command from the build (bin/ghl-health.mjs runs dist/ghl-health.js) on the shared GHL fixtures:
// exit codes 0 and 2, the JSON shape, and the findings the fixtures expect.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { API_DIR, REPO_ROOT } from './support/paths.js';
import { userEnv } from './support/process.js';

const FIXTURES = join(API_DIR, 'fakes/ghl/workflows');
const scratch = mkdtempSync(join(tmpdir(), 'api-e2e-cli-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const run = (command: string, args: string[], cwd = API_DIR) => {
  const r = spawnSync(command, args, { cwd, env: userEnv(), encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
};
const bin = (...args: string[]) => run(process.execPath, ['bin/ghl-health.mjs', ...args]);

interface Result {
  file: string;
  workflowId: string;
  score: number;
  band: string;
  findings: { ruleId: string; severity: string; stepId: string | null; message: string; fix: string }[];
}

describe('ghl-health (built)', () => {
  it('analyze <folder> --format json: exit 0, one result per workflow with the documented shape and the expected findings', () => {
    const r = bin('analyze', FIXTURES, '--format', 'json');
    expect(r.code, r.stderr).toBe(0);
    const results = JSON.parse(r.stdout) as Result[];
    const expected = JSON.parse(readFileSync(join(FIXTURES, 'expected.json'), 'utf8')) as Record<
      string,
      { must_fire: string[]; must_not_fire: string[] }
    >;
    const files = Object.keys(expected).filter((k) => k.endsWith('.json'));
    expect(results.map((x) => x.file.split('/').pop()).sort()).toEqual(files.sort());
    for (const result of results) {
      expect(result).toEqual({
        file: expect.any(String),
        workflowId: expect.any(String),
        score: expect.any(Number),
        band: expect.stringMatching(/^(healthy|needs-attention|at-risk|critical)$/),
        findings: expect.any(Array),
      });
      expect(result.score).toBeGreaterThanOrEqual(0);
      expect(result.score).toBeLessThanOrEqual(100);
      for (const f of result.findings) {
        expect(f).toEqual({
          ruleId: expect.any(String),
          severity: expect.any(String),
          stepId: f.stepId === null ? null : expect.any(String),
          message: expect.any(String),
          fix: expect.any(String),
        });
      }
      const fired = result.findings.map((f) => f.ruleId);
      const want = expected[result.file.split('/').pop()!]!;
      expect(fired, result.file).toEqual(expect.arrayContaining(want.must_fire));
      for (const rule of want.must_not_fire) expect(fired, `${result.file}: ${rule}`).not.toContain(rule);
    }
  });

  it('the bin runs the built dist/ghl-health.js (same output), and `pnpm --filter api exec ghl-health` runs the bin', () => {
    const viaBin = bin('analyze', FIXTURES, '--format', 'json');
    const viaDist = run(process.execPath, ['dist/ghl-health.js', 'analyze', FIXTURES, '--format', 'json']);
    expect(viaDist.code, viaDist.stderr).toBe(0);
    expect(viaDist.stdout).toBe(viaBin.stdout);
    const viaPnpm = run(
      'pnpm',
      ['--silent', '--filter', 'api', 'exec', 'ghl-health', 'analyze', 'fakes/ghl/workflows', '--format', 'json'],
      REPO_ROOT,
    );
    expect(viaPnpm.code, viaPnpm.stderr).toBe(0);
    expect((JSON.parse(viaPnpm.stdout) as Result[]).map((x) => x.score)).toEqual(
      (JSON.parse(viaBin.stdout) as Result[]).map((x) => x.score),
    );
  });

  it('the default table format: exit 0, one line per workflow with its score', () => {
    const r = bin('analyze', join(FIXTURES, 'dental-reactivation-campaign.json'));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/dental-reactivation-campaign\.json/);
    expect(r.stdout).toMatch(/\b\d{1,3}\b/);
  });

  it('invalid input exits 2 and names every problem; so do bad usage and a missing file', () => {
    const bad = join(scratch, 'bad.json');
    writeFileSync(bad, JSON.stringify({ id: 42, name: '', steps: 'none' }));
    const invalid = bin('analyze', bad, '--format', 'json');
    expect(invalid.code).toBe(2);
    expect(invalid.stderr).toContain('bad.json');
    const notJson = join(scratch, 'not.json');
    writeFileSync(notJson, '{ "name": ');
    expect(bin('analyze', notJson).code).toBe(2);
    expect(bin('analyze', join(scratch, 'missing.json')).code).toBe(2);
    const usage = bin('frobnicate');
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/unknown command "frobnicate"/);
    expect(bin('analyze', FIXTURES, '--format', 'yaml').code).toBe(2);
  });
});
