// @ts-check
import { defineConfig } from 'tsup';

/**
 * The build of a published library: one bundle per entry in ESM and CJS, with .d.ts and .d.cts
 * types, matching the `exports` map every package declares (types first).
 * @param {Record<string, string>} entry output name -> source file, e.g. { index: 'src/index.ts' }
 */
export function libraryConfig(entry) {
  return defineConfig({
    entry,
    format: ['esm', 'cjs'],
    dts: true,
    sourcemap: true,
    clean: true,
    target: 'node20',
    // The CJS build needs a shim for import.meta.url, which the libraries use to load optional peers lazily
    // and to locate files of their dependencies (swagger-ui-dist).
    shims: true,
  });
}
