#!/usr/bin/env node
// The `ghl-health` command. Runs the built CLI (dist/ghl-health.js, made by `pnpm build`); in a checkout that has not
// been built yet it runs the TypeScript source through tsx instead, and says so when neither can be loaded.
import { existsSync } from 'node:fs';

const built = new URL('../dist/ghl-health.js', import.meta.url);
if (existsSync(built)) {
  await import(built.href);
} else {
  try {
    const { register } = await import('tsx/esm/api');
    register();
  } catch {
    console.error('ghl-health: dist/ghl-health.js is missing and tsx is not installed; run `pnpm build` first');
    process.exit(1);
  }
  await import(new URL('../src/ghl-health.ts', import.meta.url).href);
}
