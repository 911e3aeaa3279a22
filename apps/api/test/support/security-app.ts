// The real composition root (src/main.ts) in a child process, in demo mode on a fresh shared-PostgreSQL database:
// what the security tests attack over HTTP, exactly as a client would.
import { sharedPostgres, type SharedPostgres } from '@org/test-services';
import { spawnApp, waitReady, type AppProcess } from './child.js';
import { TEST_SECRETS } from './app.js';

/** The demo location seeded in demo mode, and one of its workflows. */
export const DEMO_LOCATION = 'pR7kQ2sVx9LmN4tYb3Hc';
export const DEMO_WORKFLOW = '2131b35d-8546-53d3-857c-5ef0c31c2985';

export interface SecurityApp extends AppProcess {
  pg: SharedPostgres;
  /** `POST /auth/demo/login`: the session cookie (`name=value`). */
  login(cookie?: string): Promise<string>;
  /** Stops the process (SIGTERM) and drops the database. */
  stop(): Promise<void>;
}

/** Starts src/main.ts with DEMO_MODE=true, the test secrets and `env` on top; resolves once /ready is 200. */
export async function startSecurityApp(
  name: string,
  env: Record<string, string> = {},
  args: readonly string[] = [],
): Promise<SecurityApp> {
  const pg = await sharedPostgres(name);
  const app = await spawnApp(
    'src/main.ts',
    {
      // development (not test): demo mode then also runs on a checkout from before DEMO_MODE, so the attacks replay there.
      NODE_ENV: 'development',
      DEMO_MODE: 'true',
      DATABASE_URL: pg.url,
      SESSION_SECRET: TEST_SECRETS.sessionSecret,
      INTERNAL_TOKEN: TEST_SECRETS.internalToken,
      STRIPE_WEBHOOK_SECRET: TEST_SECRETS.stripeWebhookSecret,
      LOG_LEVEL: 'warn',
      ...env,
    },
    args,
  );
  try {
    await waitReady(app, 90_000);
  } catch (error) {
    app.child.kill('SIGKILL');
    await pg.cleanup();
    throw error;
  }
  return Object.assign(app, {
    pg,
    async login(cookie?: string) {
      const res = await fetch(`${app.base}/auth/demo/login`, { method: 'POST', headers: cookie ? { cookie } : {} });
      if (res.status !== 200) throw new Error(`demo login answered ${res.status}: ${await res.text()}`);
      return res.headers.getSetCookie()[0]!.split(';')[0]!;
    },
    async stop() {
      if (app.child.exitCode === null) {
        app.child.kill('SIGTERM');
        await app.exited;
      }
      await pg.cleanup();
    },
  });
}
