// The built server started as the README says: `pnpm start` from the repository root (which builds what is missing,
// a turbo cache hit after `pnpm build`, then runs `node dist/main.js`), with no environment but a temporary DATA_DIR
// and a free PORT.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '@org/test-services';
import { REPO_ROOT } from './paths.js';
import { startProcess, userEnv, waitForHttp, type UserProcess } from './process.js';

export interface Server {
  proc: UserProcess;
  port: number;
  base: string;
  dataDir: string;
  /** Milliseconds from spawning `pnpm start` to /ready answering 200. */
  startMs: number;
  /** Stops the process tree (SIGTERM to its group) and removes the data folder unless `keepData`. */
  stop(options?: { keepData?: boolean }): Promise<void>;
}

export function tempDir(name: string): string {
  return mkdtempSync(join(tmpdir(), `api-e2e-${name}-`));
}

/** `pnpm start` from the repository root; resolves once /ready answers 200, fails if the process ends first. */
export async function pnpmStart(options: { dataDir?: string; timeoutMs?: number } = {}): Promise<Server> {
  const dataDir = options.dataDir ?? tempDir('data');
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const t0 = performance.now();
  const proc = startProcess('pnpm', ['start'], {
    cwd: REPO_ROOT,
    env: userEnv({ DATA_DIR: dataDir, PORT: String(port) }),
  });
  try {
    await waitForHttp(proc, `${base}/ready`, options.timeoutMs ?? 120_000);
  } catch (error) {
    await proc.stop();
    if (!options.dataDir) rmSync(dataDir, { recursive: true, force: true });
    throw error;
  }
  const startMs = performance.now() - t0;
  return {
    proc,
    port,
    base,
    dataDir,
    startMs,
    async stop({ keepData = false } = {}) {
      await proc.stop();
      if (!keepData) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
