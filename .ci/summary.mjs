// Sums the vitest JSON reports of every workspace package into one closing line.
// A package with a test script but no report (its run crashed before reporting) counts as one failure.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const roots = ['packages', 'apps', 'tooling', 'examples'];
const dirs = [...roots.flatMap((r) => (existsSync(r) ? readdirSync(r).map((d) => join(r, d)) : [])), 'bench'];
/** Passed, failed and skipped tests of one vitest JSON report. */
function count(r) {
  // Suites that failed to load report no tests; count each such file once.
  const brokenFiles = (r.testResults ?? []).filter((f) => f.status === 'failed' && (f.assertionResults ?? []).length === 0).length;
  return { passed: r.numPassedTests, failed: r.numFailedTests + brokenFiles, skipped: r.numPendingTests + r.numTodoTests };
}

let passed = 0;
let failed = 0;
let skipped = 0;
for (const dir of dirs) {
  const manifest = join(dir, 'package.json');
  if (!existsSync(manifest) || !JSON.parse(readFileSync(manifest, 'utf8')).scripts?.test) continue;
  const report = join(dir, '.reports', 'vitest.json');
  if (!existsSync(report)) {
    console.log(`${dir}: no test report (the run did not finish)`);
    failed += 1;
    continue;
  }
  const r = count(JSON.parse(readFileSync(report, 'utf8')));
  console.log(`${dir}: ${r.passed} passed, ${r.failed} failed, ${r.skipped} skipped`);
  passed += r.passed;
  failed += r.failed;
  skipped += r.skipped;
}
// The extra Node runs of .ci/run: <pkg>/.reports/vitest-node<major>.json for each version and package it lists.
const versions = (process.env.NODE_MATRIX_VERSIONS ?? '').split(/\s+/).filter(Boolean);
const matrixDirs = (process.env.NODE_MATRIX_PACKAGES ?? '').split(/\s+/).filter(Boolean);
for (const major of versions) {
  for (const dir of matrixDirs) {
    const report = join(dir, '.reports', `vitest-node${major}.json`);
    if (!existsSync(report)) {
      console.log(`${dir} on Node ${major}: no test report (the run did not finish)`);
      failed += 1;
      continue;
    }
    const r = count(JSON.parse(readFileSync(report, 'utf8')));
    console.log(`${dir} on Node ${major}: ${r.passed} passed, ${r.failed} failed, ${r.skipped} skipped`);
    passed += r.passed;
    failed += r.failed;
    skipped += r.skipped;
  }
}
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(failed > 0 || passed === 0 ? 1 : 0);
