// @ts-check
import { defineProject, mergeConfig } from 'vitest/config';

const ci = process.env.CI === 'true' || process.env.CI === '1';

/**
 * Vitest defaults for one workspace package. `.ci/run` sums the JSON reports written to
 * `.reports/vitest.json` into its closing `N passed, N failed` line.
 * @param {import('vitest/config').UserProjectConfigExport} [overrides]
 */
export function defineProjectConfig(overrides = {}) {
  return mergeConfig(
    defineProject({
      test: {
        include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
        // Integration and fault tests start servers and wait on real timeouts.
        testTimeout: 30_000,
        hookTimeout: 60_000,
        // Forks isolate native handles (sockets, child processes) between files.
        pool: 'forks',
        // A focused `.only` left in a commit must not silently shrink the CI run.
        allowOnly: !ci,
        reporters: ['default', 'json'],
        outputFile: { json: '.reports/vitest.json' },
        env: { VITEST_CI: ci ? 'true' : 'false' },
      },
    }),
    /** @type {any} */ (overrides),
  );
}

/** Only the tests that need no service: unit tests next to the code. */
export const fastInclude = ['src/**/*.test.ts'];
