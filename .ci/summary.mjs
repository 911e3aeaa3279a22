// Sums the vitest JSON reports of every workspace package into one closing line: `.reports/vitest.json` of each
// package with a `test` script, `.reports/vitest-e2e.json` of each package with a `test:e2e` script (the black-box
// suite of apps/api), and `.reports/vitest-node<major>.json` of the extra Node runs of .ci/node-matrix (the versions and
// packages it lists in NODE_MATRIX_VERSIONS and NODE_MATRIX_PACKAGES). A report that is missing (its run crashed
// before reporting) counts as one failure. Each failed test (or broken file) is named under its package's line with the
// first line of its error, so that the tail of a CI log says what failed.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const roots = ['packages', 'apps', 'tooling', 'examples'];
const dirs = [...roots.flatMap((r) => (existsSync(r) ? readdirSync(r).map((d) => join(r, d)) : [])), 'bench'];
const suites = [
  { script: 'test', report: 'vitest.json', label: '' },
  { script: 'test:e2e', report: 'vitest-e2e.json', label: ' (e2e)' },
];

const firstLine = (messages) =>
  String((messages ?? []).find(Boolean) ?? 'no error message')
    .split('\n')[0]
    .slice(0, 300);

let passed = 0;
let failed = 0;
let skipped = 0;
function add(name, report) {
  if (!existsSync(report)) {
    console.log(`${name}: no test report (the run did not finish)`);
    failed += 1;
    return;
  }
  const r = JSON.parse(readFileSync(report, 'utf8'));
  // A file that failed without a failed test (it did not load, or a beforeAll hook threw and its tests were skipped)
  // counts once.
  const brokenFiles = (r.testResults ?? []).filter(
    (f) => f.status === 'failed' && !(f.assertionResults ?? []).some((a) => a.status === 'failed'),
  ).length;
  const counts = {
    passed: r.numPassedTests,
    failed: r.numFailedTests + brokenFiles,
    skipped: r.numPendingTests + r.numTodoTests,
  };
  console.log(`${name}: ${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped`);
  for (const file of r.testResults ?? []) {
    const where = file.name.startsWith(process.cwd()) ? file.name.slice(process.cwd().length + 1) : file.name;
    const failures = (file.assertionResults ?? []).filter((a) => a.status === 'failed');
    for (const a of failures)
      console.log(`  FAILED ${where} > ${a.fullName ?? a.title}: ${firstLine(a.failureMessages)}`);
    if (file.status === 'failed' && failures.length === 0)
      console.log(`  FAILED ${where}: ${firstLine([file.message])}`);
  }
  passed += counts.passed;
  failed += counts.failed;
  skipped += counts.skipped;
}

for (const dir of dirs) {
  const manifest = join(dir, 'package.json');
  if (!existsSync(manifest)) continue;
  const scripts = JSON.parse(readFileSync(manifest, 'utf8')).scripts ?? {};
  for (const suite of suites)
    if (scripts[suite.script]) add(`${dir}${suite.label}`, join(dir, '.reports', suite.report));
}
const versions = (process.env.NODE_MATRIX_VERSIONS ?? '').split(/\s+/).filter(Boolean);
const matrixDirs = (process.env.NODE_MATRIX_PACKAGES ?? '').split(/\s+/).filter(Boolean);
for (const major of versions)
  for (const dir of matrixDirs) add(`${dir} on Node ${major}`, join(dir, '.reports', `vitest-node${major}.json`));

console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(failed > 0 || passed === 0 ? 1 : 0);
