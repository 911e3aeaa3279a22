// The black-box project: the built server, worker and CLI started as the READMEs say, talked to over HTTP and argv.
// `pnpm --filter api test:e2e` (part of `pnpm test`); .ci/summary.mjs sums its report with the unit report.
import { fileURLToPath } from 'node:url';
import { defineProjectConfig } from '@org/vitest-config';

const config = defineProjectConfig({
  root: fileURLToPath(new URL('..', import.meta.url)),
  test: {
    name: 'e2e',
    // Starting the real server (PGlite boot, migrations) takes seconds on a busy machine; the quick start installs.
    testTimeout: 120_000,
    hookTimeout: 240_000,
  },
});
// Only this folder's files (mergeConfig would append to the unit tests' `include`), and a report of its own.
Object.assign(config.test!, { include: ['e2e/**/*.e2e.test.ts'], outputFile: { json: '.reports/vitest-e2e.json' } });
export default config;
