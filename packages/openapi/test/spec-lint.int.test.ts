import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import SwaggerParser from '@apidevtools/swagger-parser';
import { compileErrors, validate as readmeValidate } from '@readme/openapi-parser';
import { Validator } from '@seriousme/openapi-schema-validator';
import { afterAll, describe, expect, it } from 'vitest';
import { assertRouterMatchesDocument } from '../src/index.js';
import { createExampleApp } from './example-app.js';

const run = promisify(execFile);
const bin = (name: string) => resolve(import.meta.dirname, '..', 'node_modules', '.bin', name);
const dir = mkdtempSync(join(tmpdir(), 'org-openapi-lint-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
// The linters must not phone home (no network here, and CI must not depend on one).
const env = {
  ...process.env,
  REDOCLY_TELEMETRY: 'off',
  REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true',
  NO_UPDATE_NOTIFIER: '1',
};

async function output(command: string, args: string[]): Promise<string> {
  // Both linters exit non-zero when they find errors; the JSON report is what the tests read.
  try {
    return (await run(command, args, { cwd: dir, env, maxBuffer: 20 * 1024 * 1024 })).stdout;
  } catch (error) {
    const { stdout } = error as { stdout?: string };
    if (stdout) return stdout;
    throw error;
  }
}

describe.each(['3.1.0', '3.0.3'] as const)('the example document as OpenAPI %s', (version) => {
  const { app, api } = createExampleApp({ openapi: version });
  const file = join(dir, `openapi-${version}.json`);
  writeFileSync(file, api.openapi.json);

  it('is the version asked for', () => {
    expect(api.openapi.document.openapi).toBe(version);
  });

  it('passes redocly lint (recommended) with 0 errors and 0 warnings', async () => {
    const report = JSON.parse(
      await output(bin('redocly'), ['lint', file, '--format=json', '--extends=recommended']),
    ) as { totals: { errors: number; warnings: number }; problems: { ruleId: string; message: string }[] };
    expect(report.problems.map((p) => `${p.ruleId}: ${p.message}`)).toEqual([]);
    expect(report.totals).toMatchObject({ errors: 0, warnings: 0 });
  }, 120_000);

  it('passes spectral lint (spectral:oas) with 0 errors and 0 warnings', async () => {
    const ruleset = join(dir, '.spectral.yaml');
    writeFileSync(ruleset, 'extends: ["spectral:oas"]\n');
    const results = JSON.parse(
      await output(bin('spectral'), ['lint', file, '--ruleset', ruleset, '--format', 'json', '--quiet']),
    ) as { code: string; message: string; severity: number }[];
    // severity 0 = error, 1 = warning; hints and infos (2, 3) are not gated.
    expect(results.filter((r) => r.severity <= 1).map((r) => `${r.code}: ${r.message}`)).toEqual([]);
  }, 120_000);

  it('is valid for @apidevtools/swagger-parser', async () => {
    await expect(SwaggerParser.validate(structuredClone(api.openapi.document) as never)).resolves.toBeTruthy();
  });

  it('is valid for @seriousme/openapi-schema-validator', async () => {
    const result = await new Validator().validate(structuredClone(api.openapi.document) as never);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
  });

  it('is valid for @readme/openapi-parser, with no warnings', async () => {
    const result = await readmeValidate(structuredClone(api.openapi.document) as never);
    expect(result.valid ? '' : compileErrors(result)).toBe('');
    expect(result.warnings).toEqual([]);
  });

  it('matches the mounted Express routes exactly (contract)', () => {
    const report = assertRouterMatchesDocument(app, api.openapi.document);
    expect(report.routes).toHaveLength(14);
    expect(report.unlisted).toEqual([]);
  });
});

describe('lint harness (negative control)', () => {
  it('does report warnings on a document that has them', async () => {
    const { api } = createExampleApp();
    const doc = structuredClone(api.openapi.document);
    doc.servers = [{ url: 'http://example.com' }];
    delete doc.paths!['/status']!.get!.description;
    const file = join(dir, 'bad.json');
    writeFileSync(file, JSON.stringify(doc));
    const redocly = JSON.parse(
      await output(bin('redocly'), ['lint', file, '--format=json', '--extends=recommended']),
    ) as { problems: { ruleId: string }[] };
    expect(redocly.problems.map((p) => p.ruleId)).toContain('no-server-example.com');
    const ruleset = join(dir, '.spectral.yaml');
    writeFileSync(ruleset, 'extends: ["spectral:oas"]\n');
    const spectral = JSON.parse(
      await output(bin('spectral'), ['lint', file, '--ruleset', ruleset, '--format', 'json', '--quiet']),
    ) as { code: string }[];
    expect(spectral.map((r) => r.code)).toContain('operation-description');
  }, 180_000);
});
