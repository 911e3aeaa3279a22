import { defineConfig } from 'tsup';

export default defineConfig({
  // The analysis worker thread is its own entry: the pool loads dist/analysis-worker.js next to the bundle.
  entry: {
    main: 'src/main.ts',
    worker: 'src/worker.ts',
    migrate: 'src/migrate.ts',
    'ghl-health': 'src/ghl-health.ts',
    'analysis-worker': 'src/features/workflows/analysis-worker.ts',
  },
  format: ['esm'],
  sourcemap: true,
  clean: true,
  target: 'node20',
  // Dependencies stay in node_modules (PGlite ships its WebAssembly next to its code).
  skipNodeModulesBundle: true,
});
