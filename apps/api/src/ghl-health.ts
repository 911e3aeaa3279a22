// The `ghl-health` command (bin/ghl-health.mjs runs the built dist/ghl-health.js). The CLI lives in analysis/cli.ts.
import { runCli } from './analysis/cli.js';

runCli();
