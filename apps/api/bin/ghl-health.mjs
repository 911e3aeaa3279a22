#!/usr/bin/env node
// Runs the analyzer CLI from its TypeScript source through tsx, so it works right after
// `pnpm install` without a build.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/analysis/cli.ts');
try {
  process.exitCode = await main(process.argv.slice(2));
} catch (error) {
  console.error('ghl-health: unexpected failure:', error);
  process.exitCode = 1;
}
