import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import pg from 'pg';
import { unavailable } from './availability.js';
import { disown, own } from './cleanup-on-exit.js';
import { freePort, run, startProcess, waitFor, which } from './process.js';

/** A disposable PostgreSQL cluster that only this test uses, so it may be stopped, killed and restarted. */
export interface PrivatePostgres {
  readonly port: number;
  /** Connection string of the `postgres` database as the `postgres` superuser (trust auth). */
  readonly url: string;
  /** Pid of the postmaster (changes after a restart); undefined while stopped. */
  readonly pid: number | undefined;
  /** Whether the server answers `SELECT 1` within `timeoutMs`. */
  ping(timeoutMs?: number): Promise<boolean>;
  /** Fast shutdown (SIGINT): connections are closed, the port stops listening. */
  stop(): Promise<void>;
  /** SIGKILL to the postmaster by pid. */
  kill(): Promise<void>;
  /** Starts the cluster again on the same port with its data. */
  start(): Promise<void>;
  /** `pg_terminate_backend` on every other client backend; resolves with how many were ended. */
  terminateBackends(): Promise<number>;
  /** Stops the server for good and removes its data folder. */
  destroy(): Promise<void>;
}

function postgresBinDir(): string | undefined {
  if (process.env.PG_BIN && existsSync(join(process.env.PG_BIN, 'initdb'))) return process.env.PG_BIN;
  const root = '/usr/lib/postgresql';
  if (existsSync(root)) {
    const versions = readdirSync(root)
      .filter((v) => existsSync(join(root, v, 'bin', 'initdb')))
      .sort((a, b) => Number(b) - Number(a));
    if (versions[0]) return join(root, versions[0], 'bin');
  }
  const initdb = which('initdb');
  return initdb ? initdb.slice(0, -'/initdb'.length) : undefined;
}

const isRoot = process.getuid?.() === 0;

/** Whether a private PostgreSQL can be started here (under CI a failure throws instead). */
export function canStartPostgres(): boolean {
  if (!postgresBinDir())
    return unavailable(
      'PostgreSQL server binaries',
      'initdb/postgres not found (apt-get install postgresql, or set PG_BIN)',
    );
  if (isRoot && !which('setpriv'))
    return unavailable(
      'PostgreSQL server binaries',
      'running as root but setpriv (util-linux) is missing to drop to the postgres user',
    );
  return true;
}

/** PostgreSQL refuses to run as root: drop to the `postgres` user with an exec (so the pid is the server's). */
function asPostgres(bin: string, args: string[]): [string, string[]] {
  return isRoot
    ? ['setpriv', ['--reuid=postgres', '--regid=postgres', '--init-groups', '--', bin, ...args]]
    : [bin, args];
}

/** Creates (initdb) and starts a private cluster on a free loopback port. */
export async function startPostgres(
  options: { port?: number; settings?: Record<string, string> } = {},
): Promise<PrivatePostgres> {
  const bin = postgresBinDir();
  if (!bin) throw new Error('PostgreSQL binaries not found (set PG_BIN)');
  const port = options.port ?? (await freePort());
  const dir = mkdtempSync(join(tmpdir(), 'org-pg-'));
  const data = join(dir, 'data');
  if (isRoot) {
    const { uid, gid } = userIds('postgres');
    chownSync(dir, uid, gid);
  }
  const [initCmd, initArgs] = asPostgres(join(bin, 'initdb'), [
    '-D',
    data,
    '-U',
    'postgres',
    '--auth=trust',
    '--no-sync',
    '-E',
    'UTF8',
    '--locale=C',
  ]);
  run(initCmd, initArgs);

  let child: ChildProcess | undefined;
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  const settings = {
    listen_addresses: '127.0.0.1',
    unix_socket_directories: dir,
    fsync: 'off',
    synchronous_commit: 'off',
    full_page_writes: 'off',
    max_connections: '50',
    ...options.settings,
  };

  const ping = async (timeoutMs = 1_000) => {
    const client = new pg.Client({
      connectionString: url,
      connectionTimeoutMillis: timeoutMs,
      query_timeout: timeoutMs,
    });
    client.on('error', () => {});
    try {
      await client.connect();
      await client.query('SELECT 1');
      return true;
    } catch {
      return false;
    } finally {
      await client.end().catch(() => {});
    }
  };

  const exit = async (signal: NodeJS.Signals) => {
    const current = child;
    if (!current?.pid || current.exitCode !== null || current.signalCode !== null) return;
    const exited = new Promise((r) => current.once('exit', r));
    current.kill(signal);
    await exited;
    disown(current.pid);
    child = undefined;
  };

  const start = async () => {
    if (child) return;
    const args = ['-D', data, '-p', String(port), ...Object.entries(settings).flatMap(([k, v]) => ['-c', `${k}=${v}`])];
    // After a SIGKILL the old backends may hold shared memory for a moment; retry until they are gone.
    await waitFor(
      `private PostgreSQL on port ${port}`,
      async () => {
        const [cmd, cmdArgs] = asPostgres(join(bin, 'postgres'), args);
        const started = startProcess(cmd, cmdArgs);
        const candidate = started.child;
        const died = new Promise<false>((r) => candidate.once('exit', () => r(false)));
        own(candidate.pid!);
        const ready = await Promise.race([
          waitFor('accepting connections', () => ping(), 10_000).then(
            () => true,
            () => false,
          ),
          died,
        ]);
        if (ready) {
          child = candidate;
          return true;
        }
        candidate.kill('SIGKILL');
        disown(candidate.pid!);
        return false;
      },
      20_000,
      200,
    );
  };

  await start();
  return {
    port,
    url,
    get pid() {
      return child?.pid;
    },
    ping,
    stop: () => exit('SIGINT'),
    kill: () => exit('SIGKILL'),
    start,
    async terminateBackends() {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        const result = await client.query(
          "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid))::int AS n FROM pg_stat_activity WHERE pid <> pg_backend_pid() AND backend_type = 'client backend'",
        );
        return (result.rows[0] as { n: number }).n;
      } finally {
        await client.end();
      }
    },
    async destroy() {
      await exit('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function userIds(name: string): { uid: number; gid: number } {
  return { uid: Number(run('id', ['-u', name]).trim()), gid: Number(run('id', ['-g', name]).trim()) };
}
