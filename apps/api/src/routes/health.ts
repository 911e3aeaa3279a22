import { readdirSync } from 'node:fs';
import type { Cache } from '@org/cache';
import { Router, type RequestHandler } from 'express';
import type { Database } from '../db/database.js';
import { MIGRATIONS_DIR, appliedMigrations } from '../db/migrations.js';
import type { Lifecycle } from '../http/lifecycle.js';
import { ROUTER_OPTIONS } from '../http/routing.js';

/** What `/health/detailed` reports about the running backends (names, never URLs or credentials). */
export interface BackendInfo {
  database: 'postgres' | 'pglite';
  /** `redis` (with memory fallback) when REDIS_URL is set, else `memory`. */
  cache: 'memory' | 'redis' | 'none';
  rateLimit: 'memory' | 'redis' | 'none';
}

/** How long readiness waits for `SELECT 1` before calling the database unreachable. */
const READY_PING_MS = 500;

/** `/health`, `/live`, `/ready` (public, cheap) and `/health/detailed` (behind `guard`). */
export function healthRoutes(deps: {
  db: Database;
  lifecycle: Lifecycle;
  versions: Record<string, string>;
  backends: BackendInfo;
  guard: RequestHandler;
  startedAt: number;
  /** Reported by /health/detailed (mode, Redis, breaker); Redis down degrades, it never makes /ready fail. */
  cache?: Cache;
}): Router {
  const router = Router(ROUTER_OPTIONS);
  const noStore = { 'Cache-Control': 'no-store' };

  // Liveness: the event loop answers. No dependency checks, or a database outage would get the pod restarted.
  router.get('/live', (_req, res) => {
    res.set(noStore).json({ status: 'ok' });
  });
  router.get('/health', (_req, res) => {
    res.set(noStore).json({ status: 'ok', version: deps.versions.app });
  });

  // Single-flight: a burst of probes costs one SELECT 1.
  let inflight: Promise<boolean> | undefined;
  const pingOnce = () => {
    inflight ??= deps.db.ping(READY_PING_MS).finally(() => {
      inflight = undefined;
    });
    return inflight;
  };

  // Readiness: 503 while starting, while draining, and while PostgreSQL does not answer. Redis, once wired, only
  // degrades (the cache and rate limits fall back to memory), so it does not make the instance unready.
  router.get('/ready', async (_req, res) => {
    res.set(noStore);
    if (deps.lifecycle.state !== 'ready') {
      res.set('Retry-After', '1').status(503).json({ status: deps.lifecycle.state });
      return;
    }
    if (!(await pingOnce())) {
      res
        .set('Retry-After', '1')
        .status(503)
        .json({ status: 'unavailable', checks: { database: 'down' } });
      return;
    }
    res.json({ status: 'ready', checks: { database: 'up' } });
  });

  // The migrations shipped with this build: read once, they cannot change while the process runs.
  const available = readdirSync(MIGRATIONS_DIR)
    .filter((f) => f.endsWith('.sql'))
    .map((f) => f.replace(/\.sql$/, ''))
    .sort();
  router.get('/health/detailed', deps.guard, async (_req, res) => {
    res.set(noStore);
    const started = performance.now();
    const up = await deps.db.ping(1_000);
    const latencyMs = Math.round((performance.now() - started) * 10) / 10;
    let migrations: { applied: string[]; pending: string[] } | { error: string };
    let serverVersion: string | undefined;
    if (up) {
      try {
        const applied = await appliedMigrations(deps.db);
        migrations = { applied, pending: available.filter((m) => !applied.includes(m)) };
        serverVersion = (await deps.db.query<{ v: string }>("SELECT current_setting('server_version') AS v")).rows[0]
          ?.v;
      } catch (error) {
        migrations = { error: error instanceof Error ? error.message : 'unknown' };
      }
    } else {
      migrations = { error: 'database unreachable' };
    }
    const healthy = up && deps.lifecycle.state === 'ready';
    const cacheStats = deps.cache?.stats();
    const cache = cacheStats && {
      mode: cacheStats.mode,
      redis: cacheStats.redis,
      connection: cacheStats.connection,
      breaker: cacheStats.breaker,
    };
    const redis = cacheStats ? (cacheStats.redis === 'none' ? 'not configured' : cacheStats.redis) : 'not configured';
    res.status(healthy ? 200 : 503).json({
      status: healthy && redis !== 'down' ? 'ok' : 'degraded',
      lifecycle: deps.lifecycle.state,
      uptimeSeconds: Math.round((Date.now() - deps.startedAt) / 1000),
      backends: deps.backends,
      // Redis down is 'degraded' for operators, but the instance stays ready: cache and rate limits use memory.
      redis: { status: redis },
      cache,
      database: { status: up ? 'up' : 'down', latencyMs, pool: deps.db.stats(), serverVersion, migrations },
      versions: deps.versions,
    });
  });
  return router;
}
