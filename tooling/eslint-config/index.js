// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/**
 * The shared flat config. Syntax-only rules (no type information) so that `lint` stays fast and
 * independent of builds; type errors are `typecheck`'s job.
 * @param {{ ignores?: string[] }} [options]
 */
export function config(options = {}) {
  return tseslint.config(
    {
      ignores: [
        '**/dist/**',
        '**/node_modules/**',
        '**/.turbo/**',
        '**/.reports/**',
        '**/coverage/**',
        ...(options.ignores ?? []),
      ],
    },
    js.configs.recommended,
    ...tseslint.configs.recommended,
    {
      languageOptions: {
        ecmaVersion: 2023,
        sourceType: 'module',
        globals: {
          process: 'readonly',
          console: 'readonly',
          Buffer: 'readonly',
          setTimeout: 'readonly',
          clearTimeout: 'readonly',
          setInterval: 'readonly',
          clearInterval: 'readonly',
          setImmediate: 'readonly',
          URL: 'readonly',
          AbortController: 'readonly',
          AbortSignal: 'readonly',
          performance: 'readonly',
          queueMicrotask: 'readonly',
          structuredClone: 'readonly',
          fetch: 'readonly',
          TextEncoder: 'readonly',
          TextDecoder: 'readonly',
          __dirname: 'readonly',
          require: 'readonly',
          module: 'writable',
        },
      },
      rules: {
        '@typescript-eslint/no-unused-vars': [
          'error',
          { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_' },
        ],
        '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
        'no-console': ['error', { allow: ['warn', 'error'] }],
        eqeqeq: ['error', 'smart'],
      },
    },
    {
      // Tests, benchmarks and scripts print on purpose.
      files: [
        '**/*.test.ts',
        '**/test/**',
        '**/bench/**',
        '**/scripts/**',
        '**/smoke/**',
        'tooling/**',
        '.ci/**',
        '**/*.cjs',
        '**/*.mjs',
      ],
      rules: { 'no-console': 'off', '@typescript-eslint/no-require-imports': 'off' },
    },
  );
}

export default config();
