import type { ChildProcess } from 'node:child_process';
import { disown, own } from './cleanup-on-exit.js';
import { freePort, startProcess, waitFor } from './process.js';

/** A server started as its README says (a command in its folder), on a free port passed as `PORT`. */
export interface ServerProcess {
  /** Base URL without a trailing slash, e.g. `http://127.0.0.1:40123`. */
  readonly url: string;
  readonly pid: number;
  /** What the process printed so far (the last 8 KB). */
  output(): string;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves with the exit code (null when killed by a signal). */
  stop(graceMs?: number): Promise<number | null>;
}

/**
 * Starts `command args` in `cwd` with `PORT` set to a free port, and waits until `GET readyPath` answers (any
 * status). The process is killed when the test process exits, whatever happens.
 */
export async function startServerProcess(
  command: string,
  args: string[],
  options: { cwd: string; env?: NodeJS.ProcessEnv; readyPath?: string; timeoutMs?: number },
): Promise<ServerProcess> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const { child, output } = startProcess(command, args, {
    cwd: options.cwd,
    env: { ...process.env, ...options.env, PORT: String(port), HOST: '127.0.0.1' },
  });
  own(child.pid!);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const stop = async (graceMs = 5_000): Promise<number | null> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      const code = await exited;
      clearTimeout(timer);
      disown(child.pid!);
      return code;
    }
    disown(child.pid!);
    return child.exitCode;
  };
  try {
    await waitFor(
      `${command} ${args.join(' ')} to answer on ${url}${options.readyPath ?? '/'}`,
      async () => {
        if (hasExited(child)) throw new Error(`the process exited early:\n${output()}`);
        const response = await fetch(url + (options.readyPath ?? '/'));
        await response.arrayBuffer();
        return true;
      },
      options.timeoutMs ?? 30_000,
    );
  } catch (error) {
    await stop(1_000);
    throw new Error(`${(error as Error).message}\n${output()}`, { cause: error });
  }
  return { url, pid: child.pid!, output, stop };
}

const hasExited = (child: ChildProcess): boolean => child.exitCode !== null || child.signalCode !== null;
