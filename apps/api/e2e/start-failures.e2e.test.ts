// A process that cannot start says why and exits non-zero: never status 0 with nothing listening.
import { createServer, type Server } from 'node:net';
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_DIR, REPO_ROOT } from './support/paths.js';
import { startProcess, userEnv } from './support/process.js';
import { tempDir } from './support/server.js';

let busy: Server;
let busyPort: number;
const dataDir = tempDir('failures');
beforeAll(async () => {
  busy = createServer();
  await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
  busyPort = (busy.address() as { port: number }).port;
});
afterAll(async () => {
  await new Promise((r) => busy.close(r));
  rmSync(dataDir, { recursive: true, force: true });
});

const runToExit = async (command: string, args: string[], cwd: string, env: Record<string, string>) => {
  const proc = startProcess(command, args, { cwd, env: userEnv(env) });
  const timer = setTimeout(() => proc.signal('SIGKILL'), 90_000);
  const exit = await proc.exited;
  clearTimeout(timer);
  return { exit, output: proc.output() };
};

describe('start-up failures', () => {
  it('`pnpm start` on a port in use exits non-zero and says the address is in use', async () => {
    const r = await runToExit('pnpm', ['start'], REPO_ROOT, { DATA_DIR: dataDir, PORT: String(busyPort) });
    expect(r.exit.code, r.output).not.toBe(0);
    expect(r.exit.signal).toBeNull();
    expect(r.output).toMatch(new RegExp(`api failed to start: listen EADDRINUSE[^\\n]*127\\.0\\.0\\.1:${busyPort}`));
  });

  it('`node dist/main.js` with NODE_ENV=production and nothing set exits 1 naming the missing variables', async () => {
    const r = await runToExit(process.execPath, ['dist/main.js'], API_DIR, {
      NODE_ENV: 'production',
      DATA_DIR: dataDir,
    });
    expect(r.exit.code, r.output).toBe(1);
    expect(r.output).toMatch(
      /Invalid configuration: missing \(required when NODE_ENV=production\): DATABASE_URL, [^\n]*See apps\/api\/\.env\.example\./,
    );
  });

  it('`node dist/worker.js` without REDIS_URL and DATABASE_URL exits 1 and says what it needs', async () => {
    const r = await runToExit(process.execPath, ['dist/worker.js'], API_DIR, { DATA_DIR: dataDir });
    expect(r.exit.code, r.output).toBe(1);
    expect(r.output).toContain('--role worker needs REDIS_URL and DATABASE_URL');
  });

  it('`node dist/main.js --role nonsense` exits 1 naming the valid roles', async () => {
    const r = await runToExit(process.execPath, ['dist/main.js', '--role', 'nonsense'], API_DIR, { DATA_DIR: dataDir });
    expect(r.exit.code, r.output).toBe(1);
    expect(r.output).toContain('Invalid --role nonsense: expected api, worker or all');
  });
});
