import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/main.ts', 'src/worker.ts', 'src/migrate.ts', 'src/ghl-health.ts'],
  format: ['esm'],
  sourcemap: true,
  clean: true,
  target: 'node20',
  // Dependencies stay in node_modules (PGlite ships its WebAssembly next to its code).
  skipNodeModulesBundle: true,
});
