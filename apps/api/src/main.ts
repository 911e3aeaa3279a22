// The API process: `pnpm start`, `node dist/main.js [--role api|worker|all]`. The composition lives in start.ts.
import { runEntry } from './start.js';

runEntry();
