import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { freePort, waitFor } from '@org/test-services';

export const APP_DIR = fileURLToPath(new URL('../..', import.meta.url));

/** A child process running the app, with its whole output captured. */
export interface AppProcess {
  child: ChildProcess;
  port: number;
  base: string;
  output(): string;
  /** Resolves with the exit code (or signal) once the process is gone. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
}

/**
 * Spawns `entry` (relative to apps/api) with tsx and ONLY the given environment (plus PATH/HOME so Node runs):
 * no DATABASE_URL or REDIS_URL leaks in from the test runner's environment.
 */
export async function spawnApp(
  entry: string,
  env: Record<string, string>,
  args: readonly string[] = [],
): Promise<AppProcess> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', entry, ...args], {
    cwd: APP_DIR,
    // PORT for the API, WORKER_PORT for the worker role's probes: one free port either way.
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      PORT: String(port),
      WORKER_PORT: String(port),
      ENV_FILE: '/nonexistent/.env',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((resolve) =>
    child.once('exit', (code, signal) => {
      // A process that ends on its own with a failure (not stopped by a test's SIGTERM/SIGKILL; start refusals that
      // tests assert on print too) shows its output, so a test that then fails on a closed connection says why in CI.
      if (code !== 0 && signal === null)
        process.stderr.write(`\n[${entry} exited with code ${code}]\n${output.slice(-8_000)}\n`);
      resolve({ code, signal, at: performance.now() });
    }),
  );
  return { child, port, base: `http://127.0.0.1:${port}`, output: () => output, exited };
}

/** Waits for /ready to answer 200 (migrations done), failing early with the output if the process died. */
export async function waitReady(app: AppProcess, timeoutMs = 60_000): Promise<void> {
  let dead = false;
  void app.exited.then(() => (dead = true));
  await waitFor(
    `app on ${app.base} to be ready`,
    async () => {
      if (dead) throw new Error(`app exited early:\n${app.output()}`);
      const res = await fetch(`${app.base}/ready`).catch(() => undefined);
      return res?.status === 200;
    },
    timeoutMs,
    100,
  ).catch((error: Error) => {
    throw new Error(`${error.message}\n--- app output ---\n${app.output()}`, { cause: error });
  });
}

/**
 * Spawns the worker entry point (`src/worker.ts`, i.e. main.ts --role worker) and waits for its "worker ready" line;
 * a worker that exits or never gets ready fails the call with its output (and is killed).
 */
export async function spawnWorker(env: Record<string, string>): Promise<AppProcess> {
  const worker = await spawnApp('src/worker.ts', env);
  try {
    await waitFor(
      'worker ready',
      async () => {
        if (worker.child.exitCode !== null) throw new Error(`worker exited:\n${worker.output()}`);
        return worker.output().includes('worker ready');
      },
      60_000,
      50,
    );
  } catch (error) {
    worker.child.kill('SIGKILL');
    throw error;
  }
  return worker;
}
