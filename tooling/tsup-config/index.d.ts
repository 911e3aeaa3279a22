import type { Options } from 'tsup';

/** The build of a published library: ESM + CJS bundles with .d.ts/.d.cts types for each entry. */
export function libraryConfig(entry: Record<string, string>): Options;
