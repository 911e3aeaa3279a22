import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { Redis } from 'ioredis';
import { unavailable } from './availability.js';
import { disown, own } from './cleanup-on-exit.js';
import { freePort, startProcess, waitFor, which } from './process.js';

/** A disposable redis-server that only this test uses, so it may be paused, killed and restarted. */
export interface PrivateRedis {
  readonly host: '127.0.0.1';
  readonly port: number;
  readonly url: string;
  /** Pid of the running server (changes after `restart()`); undefined while stopped. */
  readonly pid: number | undefined;
  /** Whether the server answers PING within `timeoutMs`. */
  ping(timeoutMs?: number): Promise<boolean>;
  /** `CLIENT PAUSE ms ALL`: the server stays up but answers nobody until the pause ends. */
  pause(ms: number): Promise<void>;
  /** SIGKILL by pid; resolves once the process is gone. */
  kill(): Promise<void>;
  /** Starts the server again on the same port, killing it first if it runs (no data survives). */
  restart(): Promise<void>;
  /** Kills the server for good and removes its folder. */
  stop(): Promise<void>;
}

/**
 * The server binary the private servers run: `REDIS_SERVER_BIN` (a path or a name on PATH, e.g.
 * `valkey-server`) when set, else `redis-server`.
 */
export function redisServerBin(): string | undefined {
  const given = process.env.REDIS_SERVER_BIN;
  if (given) return given.includes('/') ? (existsSync(given) ? given : undefined) : which(given);
  return which('redis-server');
}

/** The matching CLI: `REDIS_CLI_BIN` when set, else `redis-cli`. */
export function redisCliBin(): string | undefined {
  const given = process.env.REDIS_CLI_BIN;
  if (given) return given.includes('/') ? (existsSync(given) ? given : undefined) : which(given);
  return which('redis-cli');
}

/** Whether `redis-server` (or `REDIS_SERVER_BIN`) can be started here (under CI a failure throws instead). */
export function canStartRedis(): boolean {
  return redisServerBin()
    ? true
    : unavailable(
        'redis-server',
        `${process.env.REDIS_SERVER_BIN ?? 'the redis-server binary'} is not on PATH (apt-get install redis-server, or set REDIS_SERVER_BIN)`,
      );
}

/** Starts a private redis-server on a free loopback port. `args` are extra server options. */
export async function startRedis(options: { port?: number; args?: string[] } = {}): Promise<PrivateRedis> {
  const port = options.port ?? (await freePort());
  const dir = mkdtempSync(join(tmpdir(), 'org-redis-'));
  let child: ChildProcess | undefined;

  const ping = async (timeoutMs = 500) => {
    const client = new Redis({
      host: '127.0.0.1',
      port,
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      connectTimeout: timeoutMs,
      commandTimeout: timeoutMs,
      retryStrategy: () => null,
    });
    client.on('error', () => {});
    try {
      await client.connect();
      return (await client.ping()) === 'PONG';
    } catch {
      return false;
    } finally {
      client.disconnect();
    }
  };

  const start = async () => {
    const started = startProcess(redisServerBin() ?? 'redis-server', [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--dir',
      dir,
      '--protected-mode',
      'no',
      ...(options.args ?? []),
    ]);
    child = started.child;
    own(child.pid!);
    await waitFor(`private redis-server on port ${port} (${started.output()})`, () => ping(), 10_000);
  };

  const kill = async () => {
    const current = child;
    if (!current?.pid || current.exitCode !== null || current.signalCode !== null) return;
    const exited = new Promise((r) => current.once('exit', r));
    current.kill('SIGKILL');
    await exited;
    disown(current.pid);
    child = undefined;
  };

  await start();
  return {
    host: '127.0.0.1',
    port,
    url: `redis://127.0.0.1:${port}`,
    get pid() {
      return child?.pid;
    },
    ping,
    async pause(ms) {
      const client = new Redis({ host: '127.0.0.1', port, maxRetriesPerRequest: 0 });
      client.on('error', () => {});
      try {
        await client.call('CLIENT', 'PAUSE', String(ms), 'ALL');
      } finally {
        client.disconnect();
      }
    },
    kill,
    async restart() {
      await kill();
      await start();
    },
    async stop() {
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
