// Child processes started the way a user starts them, each in its own process group so that stopping `pnpm start`
// stops the whole tree (pnpm, its shell and node).
import { spawn, type ChildProcess } from 'node:child_process';

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** performance.now() when the process ended. */
  at: number;
}

export interface UserProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  /** What the command line was, for messages. */
  readonly command: string;
  /** stdout and stderr so far, interleaved. */
  output(): string;
  readonly exited: Promise<Exit>;
  /** The exit once it happened, else undefined. */
  exit(): Exit | undefined;
  /** Sends `signal` to the whole process group. */
  signal(signal: NodeJS.Signals): void;
  /** SIGTERM to the group, SIGKILL after `graceMs`; resolves once the leader is gone. */
  stop(graceMs?: number): Promise<Exit>;
}

/**
 * The environment a user's shell would give: PATH and HOME, and nothing from this test run (no DATABASE_URL,
 * REDIS_URL, CI or npm_* variables leak in), plus `extra`.
 */
export function userEnv(extra: Record<string, string> = {}): Record<string, string> {
  return { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/root', ...extra };
}

/** Spawns `command args` in `cwd` with exactly `env`, output captured. */
export function startProcess(
  command: string,
  args: readonly string[],
  options: { cwd: string; env: Record<string, string> },
): UserProcess {
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: options.env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  let exit: Exit | undefined;
  const exited = new Promise<Exit>((resolve) => {
    child.once('exit', (code, signal) => resolve((exit = { code, signal, at: performance.now() })));
    child.once('error', (error) => {
      output += `\n[spawn error] ${error.message}\n`;
      resolve((exit = { code: -1, signal: null, at: performance.now() }));
    });
  });
  const signalGroup = (signal: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, signal);
    } catch {
      // the group is gone already
    }
  };
  return {
    child,
    pid: child.pid ?? -1,
    command: [command, ...args].join(' '),
    output: () => output,
    exited,
    exit: () => exit,
    signal: signalGroup,
    async stop(graceMs = 15_000) {
      if (!exit) signalGroup('SIGTERM');
      const timer = setTimeout(() => signalGroup('SIGKILL'), graceMs);
      const result = await exited;
      clearTimeout(timer);
      // Whatever is left of the group (a grandchild that outlived its parent) goes too.
      signalGroup('SIGKILL');
      return result;
    },
  };
}

/** The last `lines` lines of a process's output, for failure messages. */
export function tail(text: string, lines = 40): string {
  return text.split('\n').slice(-lines).join('\n');
}

/**
 * Waits until `url` answers 200, failing at once (with the exit status and the output) when the process ends first:
 * a start command that exits, even with status 0, without serving is a failure.
 */
export async function waitForHttp(proc: UserProcess, url: string, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const exit = proc.exit();
    if (exit) {
      throw new Error(
        `\`${proc.command}\` exited (code ${exit.code}, signal ${exit.signal}) before ${url} answered 200: nothing is listening\n--- output ---\n${tail(proc.output())}`,
      );
    }
    const status = await fetch(url, { signal: AbortSignal.timeout(2_000) }).then(
      (r) => (void r.body?.cancel(), r.status),
      () => 0,
    );
    if (status === 200) return;
    if (performance.now() > deadline) {
      throw new Error(
        `${url} did not answer 200 within ${timeoutMs} ms (last: ${status || 'no connection'}) while \`${proc.command}\` ran\n--- output ---\n${tail(proc.output())}`,
      );
    }
    await new Promise((r) => setTimeout(r, 150));
  }
}
