// Sums the vitest JSON reports of every workspace package into one closing line.
// A package with a test script but no report (its run crashed before reporting) counts as one failure.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const roots = ['packages', 'apps', 'tooling', 'examples'];
const dirs = [...roots.flatMap((r) => (existsSync(r) ? readdirSync(r).map((d) => join(r, d)) : [])), 'bench'];
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
  const r = JSON.parse(readFileSync(report, 'utf8'));
  // Suites that failed to load report no tests; count each such file once.
  const brokenFiles = (r.testResults ?? []).filter((f) => f.status === 'failed' && (f.assertionResults ?? []).length === 0).length;
  console.log(`${dir}: ${r.numPassedTests} passed, ${r.numFailedTests + brokenFiles} failed, ${r.numPendingTests + r.numTodoTests} skipped`);
  passed += r.numPassedTests;
  failed += r.numFailedTests + brokenFiles;
  skipped += r.numPendingTests + r.numTodoTests;
}
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(failed > 0 || passed === 0 ? 1 : 0);
